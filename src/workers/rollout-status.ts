import type { Workload } from './ports.js';

export type RolloutStatus =
  | { state: 'done'; message: string }
  | { state: 'progressing'; message: string }
  /** The workload itself reports failure (Deployment `ProgressDeadlineExceeded`). */
  | { state: 'failed'; reason: 'ProgressDeadlineExceeded'; message: string };

/** The fields of a workload object the status viewers read. */
interface WorkloadObject {
  metadata?: { name?: string; generation?: number };
  spec?: {
    replicas?: number;
    updateStrategy?: { type?: string; rollingUpdate?: { partition?: number } };
  };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    currentReplicas?: number;
    updateRevision?: string;
    currentRevision?: string;
    desiredNumberScheduled?: number;
    updatedNumberScheduled?: number;
    numberAvailable?: number;
    conditions?: { type: string; reason?: string; lastUpdateTime?: string }[];
  };
}

const view = (w: Workload) => w.object as WorkloadObject;

const num = (value: unknown, fallback = 0): number =>
  typeof value === 'number' ? value : fallback;

/** The Progressing condition's `reason@lastUpdateTime`: identifies one condition update. */
export function progressingStamp(workload: Workload): string | undefined {
  const c = view(workload).status?.conditions?.find((x) => x.type === 'Progressing');
  return c ? `${c.reason}@${c.lastUpdateTime}` : undefined;
}

function deployment(w: Workload, staleStamp: string | undefined): RolloutStatus {
  const { spec, status, metadata } = view(w);
  const name = metadata?.name ?? w.name;
  if (num(metadata?.generation) > num(status?.observedGeneration)) {
    return {
      state: 'progressing',
      message: 'Waiting for deployment spec update to be observed...',
    };
  }
  const progressing = (status?.conditions ?? []).find(
    (c: { type: string }) => c.type === 'Progressing',
  );
  // A deadline condition left from before this rollout (the controller keeps it until progress
  // is made) is not this rollout's failure.
  const fresh = progressing && `${progressing.reason}@${progressing.lastUpdateTime}` !== staleStamp;
  if (progressing?.reason === 'ProgressDeadlineExceeded' && fresh) {
    return {
      state: 'failed',
      reason: 'ProgressDeadlineExceeded',
      message: `deployment "${name}" exceeded its progress deadline`,
    };
  }
  const replicas = num(spec?.replicas, 1);
  const updated = num(status?.updatedReplicas);
  if (updated < replicas) {
    return {
      state: 'progressing',
      message: `Waiting for deployment "${name}" rollout to finish: ${updated} out of ${replicas} new replicas have been updated...`,
    };
  }
  if (num(status?.replicas) > updated) {
    return {
      state: 'progressing',
      message: `Waiting for deployment "${name}" rollout to finish: ${num(status?.replicas) - updated} old replicas are pending termination...`,
    };
  }
  if (num(status?.availableReplicas) < updated) {
    return {
      state: 'progressing',
      message: `Waiting for deployment "${name}" rollout to finish: ${num(status?.availableReplicas)} of ${updated} updated replicas are available...`,
    };
  }
  return { state: 'done', message: `deployment "${name}" successfully rolled out` };
}

function statefulSet(w: Workload): RolloutStatus {
  const { spec, status, metadata } = view(w);
  const name = metadata?.name ?? w.name;
  if ((spec?.updateStrategy?.type ?? 'RollingUpdate') !== 'RollingUpdate') {
    return {
      state: 'done',
      message: `statefulset "${name}" uses ${spec?.updateStrategy?.type}: pods update when they are deleted`,
    };
  }
  if (
    num(status?.observedGeneration) === 0 ||
    num(metadata?.generation) > num(status?.observedGeneration)
  ) {
    return {
      state: 'progressing',
      message: 'Waiting for statefulset spec update to be observed...',
    };
  }
  const replicas = num(spec?.replicas, 1);
  if (num(status?.readyReplicas) < replicas) {
    return {
      state: 'progressing',
      message: `Waiting for ${replicas - num(status?.readyReplicas)} pods to be ready...`,
    };
  }
  const partition = spec?.updateStrategy?.rollingUpdate?.partition;
  if (typeof partition === 'number' && partition > 0) {
    if (num(status?.updatedReplicas) < replicas - partition) {
      return {
        state: 'progressing',
        message: `Waiting for partitioned roll out to finish: ${num(status?.updatedReplicas)} out of ${replicas - partition} new pods have been updated...`,
      };
    }
    return {
      state: 'done',
      message: `partitioned roll out complete: ${num(status?.updatedReplicas)} new pods have been updated...`,
    };
  }
  if (status?.updateRevision !== status?.currentRevision) {
    return {
      state: 'progressing',
      message: `waiting for statefulset rolling update to complete ${num(status?.updatedReplicas)} pods at revision ${String(status?.updateRevision)}...`,
    };
  }
  return {
    state: 'done',
    message: `statefulset rolling update complete ${num(status?.currentReplicas)} pods at revision ${String(status?.currentRevision)}...`,
  };
}

function daemonSet(w: Workload): RolloutStatus {
  const { spec, status, metadata } = view(w);
  const name = metadata?.name ?? w.name;
  if ((spec?.updateStrategy?.type ?? 'RollingUpdate') !== 'RollingUpdate') {
    return {
      state: 'done',
      message: `daemonset "${name}" uses ${spec?.updateStrategy?.type}: pods update when they are deleted`,
    };
  }
  if (num(metadata?.generation) > num(status?.observedGeneration)) {
    return {
      state: 'progressing',
      message: 'Waiting for daemon set spec update to be observed...',
    };
  }
  const desired = num(status?.desiredNumberScheduled);
  if (num(status?.updatedNumberScheduled) < desired) {
    return {
      state: 'progressing',
      message: `Waiting for daemon set "${name}" rollout to finish: ${num(status?.updatedNumberScheduled)} out of ${desired} new pods have been updated...`,
    };
  }
  if (num(status?.numberAvailable) < desired) {
    return {
      state: 'progressing',
      message: `Waiting for daemon set "${name}" rollout to finish: ${num(status?.numberAvailable)} of ${desired} updated pods are available...`,
    };
  }
  return { state: 'done', message: `daemon set "${name}" successfully rolled out` };
}

/**
 * Whether a workload finished rolling out, as `kubectl rollout status` decides it (kubectl's
 * status viewers): Deployment by observedGeneration, updated/available replicas and the
 * `ProgressDeadlineExceeded` condition; StatefulSet by revisions, readiness and partition (OnDelete
 * is not waited for); DaemonSet by updated/available scheduled pods; a CronJob has nothing to wait
 * for. Pure: it reads only the object. `staleStamp` ({@link progressingStamp} of the object before
 * this rollout's patch) marks a `ProgressDeadlineExceeded` that an earlier rollout left behind.
 */
export function rolloutStatus(
  workload: Workload,
  options: { staleStamp?: string } = {},
): RolloutStatus {
  switch (workload.kind) {
    case 'Deployment':
      return deployment(workload, options.staleStamp);
    case 'StatefulSet':
      return statefulSet(workload);
    case 'DaemonSet':
      return daemonSet(workload);
    case 'CronJob':
      return {
        state: 'done',
        message: `cronjob "${workload.name}" runs the new image from its next run`,
      };
  }
}
