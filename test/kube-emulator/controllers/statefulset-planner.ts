import type { KubeObject } from '../contract.js';
import type { PodTemplate } from './deployment-types.js';
import { controllerRef } from './owner-refs.js';
import { podFromTemplate } from './pod-template.js';
import { isPodAvailable, isPodRunningAndReady, podPhase } from './pod-status.js';
import { computeHash, stableStringify } from './template-hash.js';

export const revisionLabel = 'controller-revision-hash';

export interface StatefulSet extends KubeObject {
  spec: {
    replicas?: number;
    serviceName?: string;
    selector?: { matchLabels?: Record<string, string> };
    template?: PodTemplate;
    podManagementPolicy?: string;
    minReadySeconds?: number;
    updateStrategy?: { type?: string; rollingUpdate?: { partition?: number } };
  };
  status?: Record<string, unknown> & { currentRevision?: string; collisionCount?: number };
}

export interface ControllerRevision extends KubeObject {
  data?: { spec?: { template?: PodTemplate & { $patch?: string } } };
  revision?: number;
}

export interface StatefulSetPlan {
  /** A ControllerRevision to create for the current template, if it has none yet. */
  createRevision?: ControllerRevision;
  createPods: KubeObject[];
  deletePods: string[];
  /** The status to store, or undefined when unchanged. */
  status: Record<string, unknown> | undefined;
}

const ordinalOf = (set: StatefulSet, pod: KubeObject): number => {
  const match = /-(\d+)$/.exec(pod.metadata.name ?? '');
  const prefix = (pod.metadata.name ?? '').slice(0, -(match?.[0].length ?? 0));
  return match?.[1] !== undefined && prefix === set.metadata.name ? Number(match[1]) : -1;
};

/** The Pod template a revision holds, without its strategic-merge `$patch` directive. */
function templateOf(revision: ControllerRevision | undefined): PodTemplate | undefined {
  const template = revision?.data?.spec?.template;
  if (!template) return undefined;
  const { $patch: _patch, ...clean } = template;
  return clean;
}

/** The revision holding the set's template now: an equal existing one, else a new one. */
function updateRevisionFor(
  set: StatefulSet,
  revisions: ControllerRevision[],
): { revision: ControllerRevision; created: boolean } {
  const wanted = stableStringify(set.spec.template ?? {});
  const existing = revisions.find((r) => stableStringify(templateOf(r) ?? {}) === wanted);
  if (existing) return { revision: existing, created: false };
  const hash = computeHash(set.spec.template ?? {}, set.status?.collisionCount);
  const next = revisions.reduce((max, r) => Math.max(max, r.revision ?? 0), 0) + 1;
  return {
    created: true,
    revision: {
      apiVersion: 'apps/v1',
      kind: 'ControllerRevision',
      metadata: {
        name: `${set.metadata.name ?? ''}-${hash}`,
        namespace: set.metadata.namespace,
        labels: {
          ...(set.spec.selector?.matchLabels ?? {}),
          'controller.kubernetes.io/hash': hash,
        },
        ownerReferences: [controllerRef(set)],
      },
      data: {
        spec: { template: { ...structuredClone(set.spec.template ?? {}), $patch: 'replace' } },
      },
      revision: next,
    },
  };
}

/**
 * One pass of the StatefulSet controller (OrderedReady; Parallel only creates without waiting):
 * create missing ordinals lowest first, one at a time, each once the previous is Running and
 * Ready; remove condemned ordinals highest first; with RollingUpdate delete the highest ordinal
 * at or above the partition that is not on the update revision, once all are ready; with OnDelete
 * leave Pods alone. A Pod deleted in this pass still counts in replicas and ready, as a
 * terminating Pod does in Kubernetes. Pure.
 */
export function planStatefulSetSync(
  set: StatefulSet,
  pods: KubeObject[],
  revisions: ControllerRevision[],
  nowMs: number,
): StatefulSetPlan {
  const { revision: update, created } = updateRevisionFor(set, revisions);
  const updateName = update.metadata.name ?? '';
  const storedCurrent = revisions.find((r) => r.metadata.name === set.status?.currentRevision);
  const current = storedCurrent ?? update;
  const currentName = current.metadata.name ?? '';
  const replicas = set.spec.replicas ?? 1;
  const partition = set.spec.updateStrategy?.rollingUpdate?.partition ?? 0;
  const rolling = (set.spec.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate';
  const monotonic = (set.spec.podManagementPolicy ?? 'OrderedReady') === 'OrderedReady';
  const minReadySeconds = set.spec.minReadySeconds ?? 0;
  const plan: StatefulSetPlan = { createPods: [], deletePods: [], status: undefined };
  if (created) plan.createRevision = update;

  const byOrdinal = new Map<number, KubeObject>();
  for (const pod of pods) byOrdinal.set(ordinalOf(set, pod), pod);
  const counts = { replicas: 0, ready: 0, available: 0, current: 0, updated: 0 };
  const deleted = new Set<string>();
  const countPod = (pod: KubeObject, terminating: boolean) => {
    counts.replicas++;
    if (isPodRunningAndReady(pod)) counts.ready++;
    if (isPodRunningAndReady(pod) && isPodAvailable(pod, minReadySeconds, nowMs))
      counts.available++;
    if (terminating) return;
    const revision = pod.metadata.labels?.[revisionLabel];
    if (revision === currentName) counts.current++;
    if (revision === updateName) counts.updated++;
  };
  for (const pod of pods) countPod(pod, Boolean(pod.metadata.deletionTimestamp));
  const remove = (pod: KubeObject) => {
    const name = pod.metadata.name ?? '';
    plan.deletePods.push(name);
    deleted.add(name);
    const revision = pod.metadata.labels?.[revisionLabel];
    if (revision === currentName) counts.current--;
    if (revision === updateName) counts.updated--;
  };

  const act = (): void => {
    for (let ordinal = 0; ordinal < replicas; ordinal++) {
      const pod = byOrdinal.get(ordinal);
      if (pod && podPhase(pod) === 'Failed') {
        remove(pod);
        return;
      }
      if (!pod) {
        const useCurrent = rolling && ordinal < partition;
        const revision = useCurrent ? current : update;
        const fresh = newPod(set, ordinal, revision);
        plan.createPods.push(fresh);
        countPod(fresh, false);
        if (monotonic) return;
        continue;
      }
      if (monotonic && !isPodRunningAndReady(pod)) return;
    }
    const condemned = [...byOrdinal.entries()]
      .filter(([ordinal]) => ordinal >= replicas || ordinal < 0)
      .sort(([a], [b]) => b - a);
    for (const [, pod] of condemned) {
      remove(pod);
      if (monotonic) return;
    }
    if (!rolling) return;
    for (let ordinal = replicas - 1; ordinal >= partition; ordinal--) {
      const pod = byOrdinal.get(ordinal);
      if (!pod) return;
      if (pod.metadata.labels?.[revisionLabel] !== updateName) {
        remove(pod);
        return;
      }
      if (!isPodRunningAndReady(pod)) return;
    }
  };
  act();

  let statusCurrent = currentName;
  if (rolling && counts.updated === counts.replicas && counts.ready === counts.replicas) {
    counts.current = counts.updated;
    statusCurrent = updateName;
  }
  const next: Record<string, unknown> = {
    availableReplicas: counts.available,
    collisionCount: set.status?.collisionCount ?? 0,
    currentRevision: statusCurrent,
    observedGeneration: set.metadata.generation ?? 1,
    replicas: counts.replicas,
    updateRevision: updateName,
  };
  if (counts.ready) next.readyReplicas = counts.ready;
  if (counts.current) next.currentReplicas = counts.current;
  if (counts.updated) next.updatedReplicas = counts.updated;
  if (stableStringify(next) !== stableStringify(set.status ?? {})) plan.status = next;
  return plan;
}

function newPod(set: StatefulSet, ordinal: number, revision: ControllerRevision): KubeObject {
  const name = `${set.metadata.name ?? ''}-${ordinal}`;
  const template = templateOf(revision) ?? set.spec.template ?? {};
  const pod = podFromTemplate({ ...set, spec: { ...set.spec, template } }, controllerRef(set), {
    name,
    labels: {
      [revisionLabel]: revision.metadata.name ?? '',
      'statefulset.kubernetes.io/pod-name': name,
    },
  });
  pod.spec = { ...(pod.spec as object), hostname: name, subdomain: set.spec.serviceName ?? '' };
  return pod;
}
