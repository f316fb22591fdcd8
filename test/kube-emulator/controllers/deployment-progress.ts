import { stableStringify } from './template-hash.js';
import type { Deployment, DeploymentStatus, ReplicaSet } from './deployment-types.js';
import {
  DeploymentReason,
  calculateStatus,
  deploymentComplete,
  deploymentProgressing,
  deploymentTimedOut,
  getCondition,
  hasProgressDeadline,
  newCondition,
  progressDeadlineSeconds,
  removeCondition,
  setCondition,
  storedStatus,
} from './deployment-util.js';
import { parseKubeTime } from './kube-time.js';

/**
 * The status `syncRolloutStatus` would write: counts from the ReplicaSets, Available, and the
 * Progressing condition (NewReplicaSetAvailable when complete, ReplicaSetUpdated with a fresh
 * lastUpdateTime on any progress, ProgressDeadlineExceeded once the deadline passed without any).
 */
export function planProgress(
  d: Deployment,
  allRSs: ReplicaSet[],
  newRS: ReplicaSet | undefined,
  nowMs: number,
): DeploymentStatus {
  const status = calculateStatus(d, allRSs, newRS, nowMs);
  if (!hasProgressDeadline(d))
    status.conditions = removeCondition(status.conditions, 'Progressing');
  const current = getCondition(d.status, 'Progressing');
  const isComplete =
    (status.replicas ?? 0) === (status.updatedReplicas ?? 0) &&
    current?.reason === DeploymentReason.NewReplicaSetAvailable;
  if (!hasProgressDeadline(d) || isComplete) return status;
  const rsName = newRS?.metadata.name;
  const subject = rsName ? `ReplicaSet "${rsName}"` : `Deployment "${d.metadata.name ?? ''}"`;
  if (deploymentComplete(d, status)) {
    setCondition(
      status,
      newCondition(
        'Progressing',
        'True',
        DeploymentReason.NewReplicaSetAvailable,
        `${subject} has successfully progressed.`,
        nowMs,
      ),
    );
  } else if (deploymentProgressing(d, status)) {
    const condition = newCondition(
      'Progressing',
      'True',
      DeploymentReason.ReplicaSetUpdated,
      `${subject} is progressing.`,
      nowMs,
    );
    if (current) {
      if (current.status === 'True') condition.lastTransitionTime = current.lastTransitionTime;
      status.conditions = removeCondition(status.conditions, 'Progressing');
    }
    setCondition(status, condition);
  } else if (deploymentTimedOut(d, status, nowMs)) {
    setCondition(
      status,
      newCondition(
        'Progressing',
        'False',
        DeploymentReason.ProgressDeadlineExceeded,
        `${subject} has timed out progressing.`,
        nowMs,
      ),
    );
  }
  return status;
}

/** Whether `next` differs from the stored status (zero fields count as absent). */
export function statusChanged(
  stored: DeploymentStatus | undefined,
  next: DeploymentStatus,
): boolean {
  return stableStringify(storedStatus(stored ?? {})) !== stableStringify(storedStatus(next));
}

/**
 * `requeueStuckDeployment`: emulated ms until the deadline check is due (plus a second, as
 * Kubernetes adds), or undefined when no check is needed.
 */
export function requeueStuckDeployment(
  d: Deployment,
  next: DeploymentStatus,
  nowMs: number,
): number | undefined {
  const current = getCondition(d.status, 'Progressing');
  if (!hasProgressDeadline(d) || !current) return undefined;
  if (deploymentComplete(d, next)) return undefined;
  if (current.reason === DeploymentReason.ProgressDeadlineExceeded) return undefined;
  const from = parseKubeTime(current.lastUpdateTime) ?? nowMs;
  const after = from + progressDeadlineSeconds(d) * 1000 - nowMs;
  return Math.max(after, 0) + 1000;
}
