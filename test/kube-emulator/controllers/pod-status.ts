import type { KubeObject } from '../contract.js';
import { parseKubeTime } from './kube-time.js';

interface PodCondition {
  type: string;
  status: string;
  lastTransitionTime?: string;
}

function readyCondition(pod: KubeObject): PodCondition | undefined {
  const conditions = (pod.status as { conditions?: PodCondition[] } | undefined)?.conditions;
  return conditions?.find((c) => c.type === 'Ready');
}

/** `podutil.IsPodReady`: the Ready condition is True. */
export function isPodReady(pod: KubeObject): boolean {
  return readyCondition(pod)?.status === 'True';
}

/** Running and Ready, as the StatefulSet controller requires before the next ordinal. */
export function isPodRunningAndReady(pod: KubeObject): boolean {
  return podPhase(pod) === 'Running' && isPodReady(pod);
}

/** `podutil.IsPodAvailable`: ready for at least `minReadySeconds` at `nowMs`. */
export function isPodAvailable(pod: KubeObject, minReadySeconds: number, nowMs: number): boolean {
  const ready = readyCondition(pod);
  if (ready?.status !== 'True') return false;
  if (minReadySeconds <= 0) return true;
  const since = parseKubeTime(ready.lastTransitionTime);
  return since !== undefined && since + minReadySeconds * 1000 <= nowMs;
}

/** Emulated ms until a ready pod becomes available, or undefined when that will not happen by waiting. */
export function msUntilAvailable(
  pod: KubeObject,
  minReadySeconds: number,
  nowMs: number,
): number | undefined {
  const ready = readyCondition(pod);
  if (ready?.status !== 'True' || minReadySeconds <= 0) return undefined;
  const since = parseKubeTime(ready.lastTransitionTime);
  if (since === undefined) return undefined;
  const left = since + minReadySeconds * 1000 - nowMs;
  return left > 0 ? left : undefined;
}

/** The pod's phase, `Pending` when the kubelet has not reported one. */
export function podPhase(pod: KubeObject): string {
  const phase = (pod.status as { phase?: unknown } | undefined)?.phase;
  return typeof phase === 'string' ? phase : 'Pending';
}

/** `controller.IsPodActive`: not Succeeded, not Failed, not being deleted. */
export function isPodActive(pod: KubeObject): boolean {
  const phase = podPhase(pod);
  return phase !== 'Succeeded' && phase !== 'Failed' && !pod.metadata.deletionTimestamp;
}
