import type { KubeObject } from '../contract.js';
import { kubeTime } from './kube-time.js';

interface ContainerStatus {
  name: string;
  ready: boolean;
  restartCount: number;
  started?: boolean;
  state: { running?: { startedAt?: string }; waiting?: object; terminated?: object };
  lastState: object;
  [key: string]: unknown;
}

interface PodCondition {
  type: string;
  status: string;
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
  [key: string]: unknown;
}

interface PodStatus {
  containerStatuses?: ContainerStatus[];
  conditions?: PodCondition[];
  [key: string]: unknown;
}

/** Go's `time.Duration` printing for whole and fractional seconds: `10s`, `1m30s`, `500ms`. */
function goDuration(seconds: number): string {
  if (seconds < 1) return `${Math.round(seconds * 1000)}ms`;
  const minutes = Math.floor(seconds / 60);
  const rest = Math.round((seconds - minutes * 60) * 1000) / 1000;
  return minutes > 0 ? `${minutes}m${rest}s` : `${rest}s`;
}

/**
 * Ready and ContainersReady as the kubelet derives them from the container statuses: True when
 * every container is ready, else False/ContainersNotReady naming the unready ones. A condition
 * keeps its lastTransitionTime unless its status flips.
 */
function withReadiness(status: PodStatus, time: string): PodStatus {
  const statuses = status.containerStatuses ?? [];
  const unready = statuses.filter((c) => !c.ready).map((c) => c.name);
  const ready = unready.length === 0;
  const conditions = (status.conditions ?? []).map((c): PodCondition => {
    if (c.type !== 'Ready' && c.type !== 'ContainersReady') return c;
    const next: PodCondition = {
      lastProbeTime: null,
      lastTransitionTime: c.status === (ready ? 'True' : 'False') ? c.lastTransitionTime : time,
      ...(ready ? {} : { message: `containers with unready status: [${unready.join(' ')}]` }),
      ...(ready ? {} : { reason: 'ContainersNotReady' }),
      status: ready ? 'True' : 'False',
      type: c.type,
    };
    return next;
  });
  return { ...status, conditions };
}

/**
 * The status after the containers named in `crashed` exited with code 1 at `nowMs`: each keeps
 * the run as `lastState.terminated` (Error), counts one more restart and waits in
 * CrashLoopBackOff for `backOffSeconds`; the Pod stays Running with Ready and ContainersReady
 * False. Pure.
 */
export function crashedStatus(
  pod: KubeObject,
  crashed: ReadonlySet<string>,
  nowMs: number,
  backOffSeconds: number,
): Record<string, unknown> {
  const time = kubeTime(nowMs);
  const status = structuredClone(pod.status ?? {}) as PodStatus;
  const podRef = `${pod.metadata.name ?? ''}_${pod.metadata.namespace ?? ''}(${pod.metadata.uid ?? ''})`;
  status.containerStatuses = (status.containerStatuses ?? []).map((c) =>
    crashed.has(c.name) && c.state.running
      ? {
          ...c,
          lastState: {
            terminated: {
              exitCode: 1,
              finishedAt: time,
              reason: 'Error',
              startedAt: c.state.running.startedAt ?? time,
            },
          },
          ready: false,
          restartCount: c.restartCount + 1,
          started: false,
          state: {
            waiting: {
              message: `back-off ${goDuration(backOffSeconds)} restarting failed container=${c.name} pod=${podRef}`,
              reason: 'CrashLoopBackOff',
            },
          },
        }
      : c,
  );
  return withReadiness(status, time);
}

/**
 * The status once the containers waiting in CrashLoopBackOff run again at `nowMs`: Running
 * (started), ready when `ready`; the Pod's Ready conditions follow. Pure.
 */
export function restartedStatus(
  pod: KubeObject,
  nowMs: number,
  ready: boolean,
): Record<string, unknown> {
  const time = kubeTime(nowMs);
  const status = structuredClone(pod.status ?? {}) as PodStatus;
  status.containerStatuses = (status.containerStatuses ?? []).map((c) =>
    c.state.waiting ? { ...c, ready, started: true, state: { running: { startedAt: time } } } : c,
  );
  return withReadiness(status, time);
}

/** Names of the containers of `pod` that run now and whose image `crashing` accepts. */
export function crashingContainers(
  pod: KubeObject,
  crashing: (image: string) => boolean,
): Set<string> {
  const images = new Map(
    (
      (pod.spec as { containers?: { name: string; image?: string }[] } | undefined)?.containers ??
      []
    ).map((c) => [c.name, c.image ?? ''] as const),
  );
  const statuses = (pod.status as PodStatus | undefined)?.containerStatuses ?? [];
  return new Set(
    statuses
      .filter((c) => c.state.running && crashing(images.get(c.name) ?? ''))
      .map((c) => c.name),
  );
}
