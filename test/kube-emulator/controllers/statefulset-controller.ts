import type { StoreEvent } from '../contract.js';
import type { ControllerContext, SimulatedController } from './controller-context.js';
import { controllerOf, isControlledBy } from './owner-refs.js';
import type { ControllerRevision, StatefulSet } from './statefulset-planner.js';
import { planStatefulSetSync } from './statefulset-planner.js';

const statefulSets = 'statefulsets.apps';
const revisions = 'controllerrevisions.apps';

/** The StatefulSet controller: ControllerRevisions, ordered Pods, rolling updates by ordinal. */
export class StatefulSetController implements SimulatedController {
  constructor(private readonly ctx: ControllerContext) {}

  onEvent(event: StoreEvent): void {
    const { resource, object } = event;
    if (resource === statefulSets && event.type !== 'DELETED') {
      this.enqueue(object.metadata.namespace, object.metadata.name ?? '');
    }
    if (resource === 'pods') {
      const owner = controllerOf(object);
      if (owner?.kind === 'StatefulSet') this.enqueue(object.metadata.namespace, owner.name);
    }
  }

  resyncAll(): void {
    for (const set of this.ctx.store.list(statefulSets)) {
      this.enqueue(set.metadata.namespace, set.metadata.name ?? '');
    }
  }

  private enqueue(namespace: string | undefined, name: string): void {
    this.ctx.queue.add(`statefulset/${namespace ?? ''}/${name}`, () => this.sync(namespace, name));
  }

  private sync(namespace: string | undefined, name: string): void {
    const { store, recorder, clock } = this.ctx;
    const set = store.get(statefulSets, namespace, name) as StatefulSet | undefined;
    if (!set) return;
    const uid = set.metadata.uid;
    const pods = store
      .list('pods', { namespace, ownerUid: uid ?? '' })
      .filter((p) => isControlledBy(p, uid));
    const owned = store
      .list(revisions, { namespace, ownerUid: uid ?? '' })
      .filter((r) => isControlledBy(r, uid)) as ControllerRevision[];
    const plan = planStatefulSetSync(set, pods, owned, clock.now());
    if (plan.createRevision) store.create(revisions, plan.createRevision);
    const record = (reason: string, message: string) =>
      recorder.record(set, 'statefulset-controller', { type: 'Normal', reason, message });
    for (const pod of plan.createPods) {
      store.create('pods', pod);
      record(
        'SuccessfulCreate',
        `create Pod ${pod.metadata.name ?? ''} in StatefulSet ${name} successful`,
      );
    }
    for (const podName of plan.deletePods) {
      store.delete('pods', namespace, podName);
      record('SuccessfulDelete', `delete Pod ${podName} in StatefulSet ${name} successful`);
    }
    if (plan.status) store.updateStatus(statefulSets, { ...set, status: plan.status });
  }
}
