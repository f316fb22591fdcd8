import { scaledValue } from './int-or-percent.js';
import { kubeTime, parseKubeTime } from './kube-time.js';
import type {
  Deployment,
  DeploymentCondition,
  DeploymentStatus,
  ReplicaSet,
} from './deployment-types.js';
import { omitEmpty, revisionAnnotation } from './deployment-types.js';

/** Condition reasons of `k8s.io/kubernetes/pkg/controller/deployment/util`. */
export const DeploymentReason = {
  NewReplicaSetCreated: 'NewReplicaSetCreated',
  FoundNewReplicaSet: 'FoundNewReplicaSet',
  ReplicaSetUpdated: 'ReplicaSetUpdated',
  NewReplicaSetAvailable: 'NewReplicaSetAvailable',
  ProgressDeadlineExceeded: 'ProgressDeadlineExceeded',
  MinimumReplicasAvailable: 'MinimumReplicasAvailable',
  MinimumReplicasUnavailable: 'MinimumReplicasUnavailable',
  DeploymentPaused: 'DeploymentPaused',
  DeploymentResumed: 'DeploymentResumed',
} as const;

export const defaultProgressDeadlineSeconds = 600;

export function desiredReplicas(d: Deployment): number {
  return d.spec.replicas ?? 1;
}

export function specReplicas(rs: ReplicaSet): number {
  return rs.spec.replicas ?? 1;
}

export function isRollingUpdate(d: Deployment): boolean {
  return (d.spec.strategy?.type ?? 'RollingUpdate') === 'RollingUpdate';
}

/** `ResolveFenceposts`: maxSurge rounds up, maxUnavailable down; both 0 makes unavailable 1. */
export function fenceposts(d: Deployment): { surge: number; unavailable: number } {
  const desired = desiredReplicas(d);
  const rolling = d.spec.strategy?.rollingUpdate;
  const surge = scaledValue(rolling?.maxSurge ?? '25%', desired, true);
  let unavailable = scaledValue(rolling?.maxUnavailable ?? '25%', desired, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable };
}

export function maxSurge(d: Deployment): number {
  return isRollingUpdate(d) ? fenceposts(d).surge : 0;
}

export function maxUnavailable(d: Deployment): number {
  const desired = desiredReplicas(d);
  if (!isRollingUpdate(d) || desired === 0) return 0;
  return Math.min(fenceposts(d).unavailable, desired);
}

export function hasProgressDeadline(d: Deployment): boolean {
  const seconds = d.spec.progressDeadlineSeconds ?? defaultProgressDeadlineSeconds;
  return seconds !== 2147483647;
}

export function progressDeadlineSeconds(d: Deployment): number {
  return d.spec.progressDeadlineSeconds ?? defaultProgressDeadlineSeconds;
}

const sum = (values: number[]): number => values.reduce((a, b) => a + b, 0);

export const replicaCount = (rss: ReplicaSet[]): number => sum(rss.map(specReplicas));
export const actualReplicaCount = (rss: ReplicaSet[]): number =>
  sum(rss.map((rs) => rs.status?.replicas ?? 0));
export const readyReplicaCount = (rss: ReplicaSet[]): number =>
  sum(rss.map((rs) => rs.status?.readyReplicas ?? 0));
export const availableReplicaCount = (rss: ReplicaSet[]): number =>
  sum(rss.map((rs) => rs.status?.availableReplicas ?? 0));

export function revisionOf(rs: { metadata: { annotations?: Record<string, string> } }): number {
  const value = Number(rs.metadata.annotations?.[revisionAnnotation] ?? '0');
  return Number.isInteger(value) ? value : 0;
}

export function getCondition(
  status: DeploymentStatus | undefined,
  type: string,
): DeploymentCondition | undefined {
  return status?.conditions?.find((c) => c.type === type);
}

export function newCondition(
  type: string,
  status: DeploymentCondition['status'],
  reason: string,
  message: string,
  nowMs: number,
): DeploymentCondition {
  const time = kubeTime(nowMs);
  return { lastTransitionTime: time, lastUpdateTime: time, message, reason, status, type };
}

/**
 * `SetDeploymentCondition`: no change when status and reason are equal; the transition time is
 * kept when only the reason changes; the new condition goes last (so the order moves as captured).
 */
export function setCondition(status: DeploymentStatus, condition: DeploymentCondition): void {
  const current = getCondition(status, condition.type);
  if (current && current.status === condition.status && current.reason === condition.reason) return;
  const next = { ...condition };
  if (current && current.status === condition.status) {
    next.lastTransitionTime = current.lastTransitionTime;
  }
  status.conditions = [...removeCondition(status.conditions, condition.type), next];
}

export function removeCondition(
  conditions: DeploymentCondition[] | undefined,
  type: string,
): DeploymentCondition[] {
  return (conditions ?? []).filter((c) => c.type !== type);
}

/** `calculateStatus` of the deployment controller, from the ReplicaSets as given. */
export function calculateStatus(
  d: Deployment,
  allRSs: ReplicaSet[],
  newRS: ReplicaSet | undefined,
  nowMs: number,
): DeploymentStatus {
  const available = availableReplicaCount(allRSs);
  const status: DeploymentStatus = {
    observedGeneration: d.metadata.generation ?? 1,
    replicas: actualReplicaCount(allRSs),
    updatedReplicas: newRS ? actualReplicaCount([newRS]) : 0,
    readyReplicas: readyReplicaCount(allRSs),
    availableReplicas: available,
    unavailableReplicas: Math.max(0, replicaCount(allRSs) - available),
    conditions: (d.status?.conditions ?? []).map((c) => ({ ...c })),
    collisionCount: d.status?.collisionCount,
  };
  if (available >= desiredReplicas(d) - maxUnavailable(d)) {
    setCondition(
      status,
      newCondition(
        'Available',
        'True',
        DeploymentReason.MinimumReplicasAvailable,
        'Deployment has minimum availability.',
        nowMs,
      ),
    );
  } else {
    setCondition(
      status,
      newCondition(
        'Available',
        'False',
        DeploymentReason.MinimumReplicasUnavailable,
        'Deployment does not have minimum availability.',
        nowMs,
      ),
    );
  }
  return status;
}

/** `DeploymentComplete`: every replica updated and available, and the generation observed. */
export function deploymentComplete(d: Deployment, status: DeploymentStatus | undefined): boolean {
  const desired = desiredReplicas(d);
  return (
    (status?.updatedReplicas ?? 0) === desired &&
    (status?.replicas ?? 0) === desired &&
    (status?.availableReplicas ?? 0) === desired &&
    (status?.observedGeneration ?? 0) >= (d.metadata.generation ?? 1)
  );
}

/** `DeploymentProgressing`: more updated, ready or available pods, or fewer old ones. */
export function deploymentProgressing(d: Deployment, next: DeploymentStatus): boolean {
  const old = d.status ?? {};
  const oldOld = (old.replicas ?? 0) - (old.updatedReplicas ?? 0);
  const newOld = (next.replicas ?? 0) - (next.updatedReplicas ?? 0);
  return (
    (next.updatedReplicas ?? 0) > (old.updatedReplicas ?? 0) ||
    newOld < oldOld ||
    (next.readyReplicas ?? 0) > (old.readyReplicas ?? 0) ||
    (next.availableReplicas ?? 0) > (old.availableReplicas ?? 0)
  );
}

/** `DeploymentTimedOut`: no progress since the Progressing condition's lastUpdateTime + deadline. */
export function deploymentTimedOut(d: Deployment, next: DeploymentStatus, nowMs: number): boolean {
  if (!hasProgressDeadline(d)) return false;
  const condition = getCondition(next, 'Progressing');
  if (!condition) return false;
  if (condition.reason === DeploymentReason.NewReplicaSetAvailable) return false;
  if (condition.reason === DeploymentReason.ProgressDeadlineExceeded) return true;
  const from = parseKubeTime(condition.lastUpdateTime) ?? nowMs;
  return from + progressDeadlineSeconds(d) * 1000 < nowMs;
}

/** The status as stored: zero counts and empty lists left out, as the API server returns it. */
export function storedStatus(status: DeploymentStatus): DeploymentStatus {
  return omitEmpty(status);
}
