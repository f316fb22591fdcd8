import type { KubeObject, StoreEvent } from '../contract.js';
import { StatusError } from '../contract.js';
import type { ControllerContext, SimulatedController } from './controller-context.js';
import type { Deployment, ReplicaSet } from './deployment-types.js';
import type { DeploymentStep } from './deployment-planner.js';
import { planDeploymentSync } from './deployment-planner.js';
import { storedStatus } from './deployment-util.js';
import { controllerOf, isControlledBy } from './owner-refs.js';

const deployments = 'deployments.apps';
const replicaSets = 'replicasets.apps';

/** The Deployment controller: plans with {@link planDeploymentSync} and applies the steps in order. */
export class DeploymentController implements SimulatedController {
  constructor(private readonly ctx: ControllerContext) {}

  onEvent(event: StoreEvent): void {
    const { resource, object } = event;
    const namespace = object.metadata.namespace;
    if (resource === deployments) this.enqueue(namespace, object.metadata.name);
    if (resource === replicaSets) {
      const owner = controllerOf(object);
      if (owner?.kind === 'Deployment') this.enqueue(namespace, owner.name);
    }
    if (resource === 'pods' && event.type === 'DELETED') {
      const rsOwner = controllerOf(object);
      if (rsOwner?.kind !== 'ReplicaSet') return;
      const rs = this.ctx.store.get(replicaSets, namespace, rsOwner.name);
      const owner = rs && controllerOf(rs);
      if (owner?.kind === 'Deployment') this.enqueue(namespace, owner.name);
    }
  }

  resyncAll(): void {
    for (const d of this.ctx.store.list(deployments)) {
      this.enqueue(d.metadata.namespace, d.metadata.name);
    }
  }

  private enqueue(namespace: string | undefined, name: string | undefined): void {
    if (!name) return;
    this.ctx.queue.add(`deployment/${namespace ?? ''}/${name}`, () => this.sync(namespace, name));
  }

  private sync(namespace: string | undefined, name: string): number | undefined {
    const deployment = this.ctx.store.get(deployments, namespace, name) as Deployment | undefined;
    if (!deployment) return undefined;
    const uid = deployment.metadata.uid;
    const owned = this.ctx.store
      .list(replicaSets, { namespace, ownerUid: uid ?? '' })
      .filter((rs) => isControlledBy(rs, uid)) as ReplicaSet[];
    const recreate = deployment.spec.strategy?.type === 'Recreate';
    // The Pods of the owned ReplicaSets, sorted by namespace/name as one list of the namespace.
    const pods = recreate
      ? owned
          .flatMap((rs) =>
            this.ctx.store
              .list('pods', { namespace, ownerUid: rs.metadata.uid ?? '' })
              .filter((p) => controllerOf(p)?.uid === rs.metadata.uid),
          )
          .sort((a, b) => byName(a.metadata.name, b.metadata.name))
      : [];
    const plan = planDeploymentSync({
      deployment,
      replicaSets: owned,
      pods,
      nowMs: this.ctx.clock.now(),
    });
    this.apply(deployment, plan.steps);
    return plan.requeueAfterMs;
  }

  private apply(deployment: Deployment, steps: DeploymentStep[]): void {
    const { store, recorder } = this.ctx;
    let current: KubeObject = deployment;
    const versions = new Map<string, string | undefined>();
    for (const step of steps) {
      switch (step.type) {
        case 'createReplicaSet':
          try {
            store.create(replicaSets, step.replicaSet);
          } catch (error) {
            if (!(error instanceof StatusError) || error.code !== 409) throw error;
          }
          break;
        case 'updateReplicaSet': {
          const rs = step.replicaSet;
          const rsName = rs.metadata.name ?? '';
          const resourceVersion = versions.get(rsName) ?? rs.metadata.resourceVersion;
          const updated = store.update(replicaSets, {
            ...rs,
            metadata: { ...rs.metadata, resourceVersion },
          });
          versions.set(rsName, updated.metadata.resourceVersion);
          break;
        }
        case 'deleteReplicaSet':
          store.delete(replicaSets, deployment.metadata.namespace, step.name);
          break;
        case 'updateDeploymentAnnotations':
          current = store.update(deployments, {
            ...current,
            metadata: { ...current.metadata, annotations: step.annotations },
          });
          break;
        case 'updateDeploymentStatus':
          current = store.updateStatus(deployments, {
            ...current,
            status: storedStatus(step.status),
          });
          break;
        case 'event':
          recorder.record(current, 'deployment-controller', step.event);
          break;
      }
    }
  }
}

function byName(a = '', b = ''): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
