import type { StoreEvent } from '../contract.js';
import type { ControllerContext, SimulatedController } from './controller-context.js';
import type { DaemonSet } from './daemonset-planner.js';
import { planDaemonSetSync } from './daemonset-planner.js';
import { controllerOf, isControlledBy } from './owner-refs.js';

const daemonSets = 'daemonsets.apps';

/** The DaemonSet controller: one Pod per configured node, rolling updates within maxUnavailable. */
export class DaemonSetController implements SimulatedController {
  constructor(private readonly ctx: ControllerContext) {}

  onEvent(event: StoreEvent): void {
    const { resource, object } = event;
    if (resource === daemonSets && event.type !== 'DELETED') {
      this.enqueue(object.metadata.namespace, object.metadata.name ?? '');
    }
    if (resource === 'pods') {
      const owner = controllerOf(object);
      if (owner?.kind === 'DaemonSet') this.enqueue(object.metadata.namespace, owner.name);
    }
  }

  resyncAll(): void {
    for (const ds of this.ctx.store.list(daemonSets)) {
      this.enqueue(ds.metadata.namespace, ds.metadata.name ?? '');
    }
  }

  private enqueue(namespace: string | undefined, name: string): void {
    this.ctx.queue.add(`daemonset/${namespace ?? ''}/${name}`, () => this.sync(namespace, name));
  }

  private sync(namespace: string | undefined, name: string): void {
    const { store, recorder, clock, nodes } = this.ctx;
    const ds = store.get(daemonSets, namespace, name) as DaemonSet | undefined;
    if (!ds) return;
    const pods = store
      .list('pods', { namespace, ownerUid: ds.metadata.uid ?? '' })
      .filter((p) => isControlledBy(p, ds.metadata.uid));
    const plan = planDaemonSetSync(ds, nodes, pods, clock.now());
    const record = (reason: string, message: string) =>
      recorder.record(ds, 'daemonset-controller', { type: 'Normal', reason, message });
    for (const podName of plan.deletePods) {
      store.delete('pods', namespace, podName);
      record('SuccessfulDelete', `Deleted pod: ${podName}`);
    }
    for (const pod of plan.createPods) {
      const created = store.create('pods', pod);
      record('SuccessfulCreate', `Created pod: ${created.metadata.name ?? ''}`);
    }
    if (plan.status) store.updateStatus(daemonSets, { ...ds, status: plan.status });
  }
}
