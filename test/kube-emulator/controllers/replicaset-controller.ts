import type { StoreEvent } from '../contract.js';
import type { ControllerContext, SimulatedController } from './controller-context.js';
import type { ReplicaSet } from './deployment-types.js';
import { controllerOf, controllerRef, isControlledBy } from './owner-refs.js';
import { podFromTemplate } from './pod-template.js';
import { planReplicaSetSync } from './replicaset-planner.js';

const replicaSets = 'replicasets.apps';

/** The ReplicaSet controller: keeps `spec.replicas` Pods and reports their counts. */
export class ReplicaSetController implements SimulatedController {
  constructor(private readonly ctx: ControllerContext) {}

  onEvent(event: StoreEvent): void {
    const { resource, object } = event;
    if (resource === replicaSets && event.type !== 'DELETED') {
      this.enqueue(object.metadata.namespace, object.metadata.name ?? '');
    }
    if (resource === 'pods') {
      const owner = controllerOf(object);
      if (owner?.kind === 'ReplicaSet') this.enqueue(object.metadata.namespace, owner.name);
    }
  }

  resyncAll(): void {
    for (const rs of this.ctx.store.list(replicaSets)) {
      this.enqueue(rs.metadata.namespace, rs.metadata.name ?? '');
    }
  }

  private enqueue(namespace: string | undefined, name: string): void {
    this.ctx.queue.add(`replicaset/${namespace ?? ''}/${name}`, () => this.sync(namespace, name));
  }

  private sync(namespace: string | undefined, name: string): number | undefined {
    const { store, recorder, clock } = this.ctx;
    const rs = store.get(replicaSets, namespace, name) as ReplicaSet | undefined;
    if (!rs) return undefined;
    const pods = store
      .list('pods', { namespace, ownerUid: rs.metadata.uid ?? '' })
      .filter((p) => isControlledBy(p, rs.metadata.uid));
    const plan = planReplicaSetSync(rs, pods, clock.now());
    for (let i = 0; i < plan.create; i++) {
      const pod = store.create('pods', podFromTemplate(rs, controllerRef(rs)));
      recorder.record(rs, 'replicaset-controller', {
        type: 'Normal',
        reason: 'SuccessfulCreate',
        message: `Created pod: ${pod.metadata.name ?? ''}`,
      });
    }
    for (const podName of plan.deletePods) {
      store.delete('pods', namespace, podName);
      recorder.record(rs, 'replicaset-controller', {
        type: 'Normal',
        reason: 'SuccessfulDelete',
        message: `Deleted pod: ${podName}`,
      });
    }
    if (plan.status) store.updateStatus(replicaSets, { ...rs, status: plan.status });
    return plan.requeueAfterMs;
  }
}
