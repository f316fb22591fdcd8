import type { KubeObject } from '../contract.js';
import { parseKubeTime } from './kube-time.js';

/** What the tracker remembers of a Service between two syncs. */
export interface TriggerTimeState {
  serviceMs: number | undefined;
  /** Pod name → the Ready condition's lastTransitionTime seen at the previous sync. */
  podMs: ReadonlyMap<string, number>;
}

function readyTransitionMs(pod: KubeObject): number | undefined {
  const conditions = (
    pod.status as { conditions?: { type: string; lastTransitionTime?: string }[] }
  )?.conditions;
  return parseKubeTime(conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime);
}

/**
 * `TriggerTimeTracker.ComputeEndpointLastChangeTriggerTime`: the time to export as the
 * last-change-trigger-time annotation, and the state to keep for the next sync of the Service.
 * For a Service not seen before it is its creationTimestamp; afterwards the earliest trigger
 * time that changed since the previous sync (a Pod's Ready transition, the Service's creation),
 * undefined when none did (as for a deleted Pod, whose removal has no trigger time). Pure.
 */
export function trackTriggerTime(
  previous: TriggerTimeState | undefined,
  service: KubeObject,
  pods: KubeObject[],
): { timeMs: number | undefined; state: TriggerTimeState } {
  let earliest: number | undefined;
  const changed = (ms: number) => {
    earliest = earliest === undefined ? ms : Math.min(earliest, ms);
  };
  const podMs = new Map<string, number>();
  for (const pod of pods) {
    const ms = readyTransitionMs(pod);
    if (ms === undefined) continue;
    const name = pod.metadata.name ?? '';
    podMs.set(name, ms);
    if (ms > (previous?.podMs.get(name) ?? Number.NEGATIVE_INFINITY)) changed(ms);
  }
  const serviceMs = parseKubeTime(service.metadata.creationTimestamp);
  if (serviceMs !== undefined && serviceMs > (previous?.serviceMs ?? Number.NEGATIVE_INFINITY)) {
    changed(serviceMs);
  }
  const state = { serviceMs, podMs };
  return { timeMs: previous ? earliest : serviceMs, state };
}
