import type { KubeObject } from '../contract.js';
import { kubeTime } from './kube-time.js';

/** A Pod (or its Job) carrying this annotation runs to failure: phase Failed, exit code 1. */
export const failAnnotation = 'cvm.dev/emulator-fail';

export type PodOutcome = 'ready' | 'never-ready' | 'succeeded' | 'failed';

interface Container {
  name: string;
  image?: string;
}

function containers(pod: KubeObject): Container[] {
  return ((pod.spec as { containers?: Container[] } | undefined)?.containers ?? []).filter(
    (c) => typeof c?.name === 'string',
  );
}

/** Run-to-completion Pods (restartPolicy Never / OnFailure, as Jobs use) terminate; others run. */
export function podOutcome(pod: KubeObject, neverReady: (image: string) => boolean): PodOutcome {
  const restartPolicy = (pod.spec as { restartPolicy?: string } | undefined)?.restartPolicy;
  const bad =
    containers(pod).some((c) => neverReady(c.image ?? '')) ||
    pod.metadata.annotations?.[failAnnotation] === 'true';
  if (restartPolicy === 'Never' || restartPolicy === 'OnFailure') {
    return bad ? 'failed' : 'succeeded';
  }
  return bad ? 'never-ready' : 'ready';
}

function condition(type: string, status: string, time: string, reason?: string, message?: string) {
  return {
    lastProbeTime: null,
    lastTransitionTime: time,
    ...(message ? { message } : {}),
    ...(reason ? { reason } : {}),
    status,
    type,
  };
}

/** The status the scheduler leaves: Pending, PodScheduled. */
export function scheduledStatus(nowMs: number): Record<string, unknown> {
  return {
    conditions: [condition('PodScheduled', 'True', kubeTime(nowMs))],
    phase: 'Pending',
    qosClass: 'BestEffort',
  };
}

/** The status the kubelet reports once the containers started, shaped as deployment-pods.json. */
export function startedStatus(
  pod: KubeObject,
  outcome: PodOutcome,
  nowMs: number,
  podIP: string,
): Record<string, unknown> {
  const time = kubeTime(nowMs);
  const names = containers(pod).map((c) => c.name);
  const running = outcome === 'ready' || outcome === 'never-ready';
  const ready = outcome === 'ready';
  const notReady = `containers with unready status: [${names.join(' ')}]`;
  const readyReason = running ? 'ContainersNotReady' : 'PodCompleted';
  const conditions = [
    condition('Initialized', 'True', time, running ? undefined : 'PodCompleted'),
    ready
      ? condition('Ready', 'True', time)
      : condition('Ready', 'False', time, readyReason, running ? notReady : undefined),
    ready
      ? condition('ContainersReady', 'True', time)
      : condition('ContainersReady', 'False', time, readyReason, running ? notReady : undefined),
    condition('PodScheduled', 'True', time),
  ];
  const containerStatuses = containers(pod).map((c) => ({
    image: c.image ?? '',
    imageID: `fake://${c.image ?? ''}`,
    lastState: {},
    name: c.name,
    ready,
    restartCount: 0,
    started: running,
    state: running
      ? { running: { startedAt: time } }
      : {
          terminated: {
            exitCode: outcome === 'failed' ? 1 : 0,
            finishedAt: time,
            reason: outcome === 'failed' ? 'Error' : 'Completed',
            startedAt: time,
          },
        },
  }));
  const phase = running ? 'Running' : outcome === 'failed' ? 'Failed' : 'Succeeded';
  return {
    conditions,
    containerStatuses,
    hostIP: '10.0.0.1',
    phase,
    podIP,
    podIPs: [{ ip: podIP }],
    qosClass: 'BestEffort',
    startTime: time,
  };
}
