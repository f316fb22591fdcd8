import type { KubeObject } from '../contract.js';
import type { ControllerContext } from './controller-context.js';
import { crashedStatus, crashingContainers, restartedStatus } from './crash-loop-status.js';
import { podOutcome } from './pod-lifecycle.js';
import { podPhase } from './pod-status.js';

interface PodRef {
  namespace: string | undefined;
  name: string;
  uid: string;
}

/** Below this a crash loop would spin: a run or back-off lasts at least this many emulated ms. */
const minimumStepMs = 100;

/**
 * The kubelet's restarts of crash-looping containers (images `ctx.crashing` accepts) in
 * long-running Pods: `crashAfterSeconds` after a container started it exits with code 1, waits
 * in CrashLoopBackOff for `podReadySeconds`, runs again, and so on. The images are looked at on
 * every crash, so `setCrashing([])` lets the loop end with the containers running. One timer
 * per Pod, on the emulator clock; a Pod's loop ends when it is deleted, `stop()` ends all.
 */
export class CrashLoop {
  private readonly timers = new Map<string, { cancel(): void }>();

  constructor(private readonly ctx: ControllerContext) {}

  /** Called once the kubelet started `pod`: schedules its first crash when it has crashing containers. */
  watch(pod: KubeObject): void {
    const outcome = podOutcome(pod, this.ctx.neverReady);
    if (outcome !== 'ready' && outcome !== 'never-ready') return;
    if (crashingContainers(pod, this.ctx.crashing).size === 0) return;
    const { namespace, name = '', uid = '' } = pod.metadata;
    this.after(this.ctx.crashAfterSeconds, { namespace, name, uid }, (ref) => this.crash(ref));
  }

  /** Ends the loop of a deleted Pod. */
  forget(uid: string): void {
    this.timers.get(uid)?.cancel();
    this.timers.delete(uid);
  }

  /** Cancels every timer; idempotent. */
  stop(): void {
    for (const timer of this.timers.values()) timer.cancel();
    this.timers.clear();
  }

  private after(seconds: number, ref: PodRef, step: (ref: PodRef) => void): void {
    this.forget(ref.uid);
    const timer = this.ctx.clock.setTimeout(
      () => {
        this.timers.delete(ref.uid);
        step(ref);
      },
      Math.max(minimumStepMs, seconds * 1000),
    );
    this.timers.set(ref.uid, timer);
  }

  private current(ref: PodRef): KubeObject | undefined {
    const pod = this.ctx.store.get('pods', ref.namespace, ref.name);
    if (pod?.metadata.uid !== ref.uid || pod.metadata.deletionTimestamp) return undefined;
    return podPhase(pod) === 'Running' ? pod : undefined;
  }

  private crash(ref: PodRef): void {
    const pod = this.current(ref);
    if (!pod) return;
    const crashed = crashingContainers(pod, this.ctx.crashing);
    if (crashed.size === 0) return;
    const { clock, podReadySeconds, store } = this.ctx;
    const status = crashedStatus(pod, crashed, clock.now(), podReadySeconds);
    if (!this.write(() => store.updateStatus('pods', { ...pod, status }))) return;
    this.after(podReadySeconds, ref, (r) => this.restart(r));
  }

  private restart(ref: PodRef): void {
    const pod = this.current(ref);
    if (!pod) return;
    const { clock, crashAfterSeconds, neverReady, store } = this.ctx;
    const ready = podOutcome(pod, neverReady) === 'ready';
    const status = restartedStatus(pod, clock.now(), ready);
    if (!this.write(() => store.updateStatus('pods', { ...pod, status }))) return;
    this.after(crashAfterSeconds, ref, (r) => this.crash(r));
  }

  private write(update: () => unknown): boolean {
    try {
      update();
      return true;
    } catch {
      // The Pod went away meanwhile: its loop ends.
      return false;
    }
  }
}
