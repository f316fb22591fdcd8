import type { KubeObject, StoreEvent } from '../contract.js';
import type { ControllerContext, SimulatedController } from './controller-context.js';
import { CrashLoop } from './crash-loop.js';
import { podOutcome, scheduledStatus, startedStatus } from './pod-lifecycle.js';
import { podPhase } from './pod-status.js';

/**
 * The scheduler and kubelet of the configured nodes: binds a new Pod to a node (Scheduled Event,
 * PodScheduled), then `podReadySeconds` later starts it. Pods due together are started one per
 * timer tick, so the controllers see them become ready one by one, as in the captures. Started
 * Pods with a crashing image go on to crash-loop ({@link CrashLoop}).
 */
export class Kubelet implements SimulatedController {
  private readonly timers = new Map<string, { cancel(): void }>();
  private readonly due: { namespace: string | undefined; name: string; uid: string }[] = [];
  private starter: { cancel(): void } | undefined;
  private nextNode = 0;
  private nextIP = 2;
  private readonly crashLoop: CrashLoop;

  constructor(private readonly ctx: ControllerContext) {
    this.crashLoop = new CrashLoop(ctx);
  }

  onEvent(event: StoreEvent): void {
    if (event.resource !== 'pods') return;
    const uid = event.object.metadata.uid ?? '';
    if (event.type === 'DELETED') {
      this.timers.get(uid)?.cancel();
      this.timers.delete(uid);
      this.crashLoop.forget(uid);
      return;
    }
    if (event.type === 'ADDED') this.track(event.object);
  }

  resyncAll(): void {
    for (const pod of this.ctx.store.list('pods')) {
      if (podPhase(pod) === 'Pending' && !pod.metadata.deletionTimestamp) this.track(pod);
    }
  }

  stop(): void {
    for (const timer of this.timers.values()) timer.cancel();
    this.timers.clear();
    this.starter?.cancel();
    this.starter = undefined;
    this.due.length = 0;
    this.crashLoop.stop();
  }

  private track(pod: KubeObject): void {
    const uid = pod.metadata.uid ?? '';
    if (this.timers.has(uid)) return;
    const { namespace, name = '' } = pod.metadata;
    this.ctx.queue.add(`scheduler/${uid}`, () => this.schedule(namespace, name, uid));
    const timer = this.ctx.clock.setTimeout(() => {
      this.timers.delete(uid);
      this.due.push({ namespace, name, uid });
      this.starter ??= this.ctx.clock.setTimeout(() => this.startNext(), 0);
    }, this.ctx.podReadySeconds * 1000);
    this.timers.set(uid, timer);
  }

  private current(
    namespace: string | undefined,
    name: string,
    uid: string,
  ): KubeObject | undefined {
    const pod = this.ctx.store.get('pods', namespace, name);
    return pod?.metadata.uid === uid ? pod : undefined;
  }

  private schedule(namespace: string | undefined, name: string, uid: string): void {
    const { store, recorder, clock, nodes } = this.ctx;
    let pod = this.current(namespace, name, uid);
    const status = pod?.status as { conditions?: unknown } | undefined;
    if (!pod || podPhase(pod) !== 'Pending' || status?.conditions) return;
    const spec = (pod.spec ?? {}) as { nodeName?: string };
    if (!spec.nodeName) {
      const node = nodes[this.nextNode++ % Math.max(1, nodes.length)] ?? 'node-1';
      pod = store.update('pods', { ...pod, spec: { ...spec, nodeName: node } });
    }
    const node = (pod.spec as { nodeName?: string }).nodeName ?? '';
    recorder.record(pod, 'default-scheduler', {
      type: 'Normal',
      reason: 'Scheduled',
      message: `Successfully assigned ${namespace ?? ''}/${name} to ${node}`,
    });
    store.updateStatus('pods', { ...pod, status: scheduledStatus(clock.now()) });
  }

  private startNext(): void {
    this.starter = undefined;
    const next = this.due.shift();
    if (!next) return;
    this.start(next);
    // Scheduled after the write, so the syncs it queued run before the next Pod starts.
    if (this.due.length > 0) this.starter = this.ctx.clock.setTimeout(() => this.startNext(), 0);
  }

  private start(next: { namespace: string | undefined; name: string; uid: string }): void {
    const pod = this.current(next.namespace, next.name, next.uid);
    if (!pod || pod.metadata.deletionTimestamp || podPhase(pod) !== 'Pending') return;
    const outcome = podOutcome(pod, this.ctx.neverReady);
    const ip = `10.244.0.${(this.nextIP++ % 250) + 2}`;
    try {
      const started = this.ctx.store.updateStatus('pods', {
        ...pod,
        status: startedStatus(pod, outcome, this.ctx.clock.now(), ip),
      });
      this.crashLoop.watch(started);
    } catch {
      // The Pod went away meanwhile: nothing to start.
    }
  }
}
