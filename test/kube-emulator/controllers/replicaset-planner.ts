import type { KubeObject } from '../contract.js';
import type { ReplicaSet, ReplicaSetStatus } from './deployment-types.js';
import {
  isPodActive,
  isPodAvailable,
  isPodReady,
  msUntilAvailable,
  podPhase,
} from './pod-status.js';

export interface ReplicaSetPlan {
  /** How many Pods to create from the template. */
  create: number;
  /** Names of Pods to delete, the least useful first. */
  deletePods: string[];
  /** The status to store, or undefined when it is unchanged. */
  status: ReplicaSetStatus | undefined;
  /** Sync again after this many emulated ms (a ready Pod becomes available), if set. */
  requeueAfterMs: number | undefined;
}

/** At most this many Pods are created or deleted per sync, as `burstReplicas` does. */
export const burstReplicas = 500;

const phaseRank: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

/** `ActivePods` ordering: unscheduled, pending, not ready, newer go first when scaling down. */
function deletionOrder(a: KubeObject, b: KubeObject): number {
  const scheduled = (p: KubeObject): number =>
    (p.spec as { nodeName?: string })?.nodeName ? 1 : 0;
  return (
    scheduled(a) - scheduled(b) ||
    (phaseRank[podPhase(a)] ?? 0) - (phaseRank[podPhase(b)] ?? 0) ||
    Number(isPodReady(a)) - Number(isPodReady(b)) ||
    (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? '') ||
    (b.metadata.name ?? '').localeCompare(a.metadata.name ?? '')
  );
}

function labelsMatch(
  labels: Record<string, string> | undefined,
  wanted: Record<string, string>,
): boolean {
  return Object.entries(wanted).every(([k, v]) => labels?.[k] === v);
}

/**
 * One pass of the ReplicaSet controller: create or delete Pods to reach `spec.replicas`, and the
 * status counting the Pods as they are after this pass. Pure.
 */
export function planReplicaSetSync(
  rs: ReplicaSet,
  ownedPods: KubeObject[],
  nowMs: number,
): ReplicaSetPlan {
  const pods = ownedPods.filter(isPodActive);
  const diff = pods.length - (rs.spec.replicas ?? 1);
  const create = diff < 0 ? Math.min(-diff, burstReplicas) : 0;
  const deletePods =
    diff > 0
      ? [...pods]
          .sort(deletionOrder)
          .slice(0, Math.min(diff, burstReplicas))
          .map((p) => p.metadata.name ?? '')
      : [];
  const minReadySeconds = rs.spec.minReadySeconds ?? 0;
  const templateLabels = rs.spec.template?.metadata?.labels ?? {};
  const deleted = new Set(deletePods);
  // Counted as they will be once this pass's creations and deletions land (the informer view a
  // moment later); this keeps the Deployment's sequence in the captured order.
  const remaining = pods.filter((p) => !deleted.has(p.metadata.name ?? ''));
  const next: ReplicaSetStatus = {
    replicas: remaining.length + create,
    fullyLabeledReplicas:
      remaining.filter((p) => labelsMatch(p.metadata.labels, templateLabels)).length + create,
    readyReplicas: remaining.filter(isPodReady).length,
    availableReplicas: remaining.filter((p) => isPodAvailable(p, minReadySeconds, nowMs)).length,
    observedGeneration: rs.metadata.generation ?? 1,
  };
  const waits = remaining
    .map((p) => msUntilAvailable(p, minReadySeconds, nowMs))
    .filter((ms): ms is number => ms !== undefined);
  return {
    create,
    deletePods,
    status: sameStatus(rs.status, next) ? undefined : storedReplicaSetStatus(next),
    requeueAfterMs: waits.length > 0 ? Math.min(...waits) : undefined,
  };
}

/** `replicas` is always present; the other counts are omitted when 0, as the API returns them. */
export function storedReplicaSetStatus(status: ReplicaSetStatus): ReplicaSetStatus {
  const out: ReplicaSetStatus = { replicas: status.replicas ?? 0 };
  if (status.fullyLabeledReplicas) out.fullyLabeledReplicas = status.fullyLabeledReplicas;
  if (status.readyReplicas) out.readyReplicas = status.readyReplicas;
  if (status.availableReplicas) out.availableReplicas = status.availableReplicas;
  if (status.observedGeneration) out.observedGeneration = status.observedGeneration;
  return out;
}

function sameStatus(a: ReplicaSetStatus | undefined, b: ReplicaSetStatus): boolean {
  return (
    JSON.stringify(storedReplicaSetStatus(a ?? {})) === JSON.stringify(storedReplicaSetStatus(b))
  );
}
