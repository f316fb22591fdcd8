import type {
  ContainerVersionSpec,
  RolloutState,
  RolloutWorkload,
} from '../api/container-version.js';
import type { Reason } from '../api/conditions.js';
import { cvReference } from './cv-status.js';
import { Annotation, digestOfImage, planContainerPatch } from './plan-container-patch.js';
import type {
  EventRecorder,
  ObjectKey,
  PodReader,
  PodView,
  ServiceClient,
  ServiceTarget,
  ServiceView,
  StoredContainerVersion,
  Workload,
  WorkloadClient,
} from './ports.js';
import { workloadKey, type RolloutTransition, type WorkloadChange } from './rollout-facts.js';
import { iso } from './rollout-record.js';
import { progressingStamp } from './rollout-status.js';
import { podSelectorOf, replicasOf } from './strategies/replica-sets.js';
import type { WorkloadsChange } from './rollout-effects.js';

export interface TrafficEffectsDeps {
  workloads: WorkloadClient;
  services: ServiceClient;
  pods: PodReader;
  events: EventRecorder;
  now: () => Date;
  /** Called once per workload patched to a new version (push-to-patch latency). */
  patched?: () => void;
}

/**
 * The reads and writes BlueGreen and Canary add to a rollout: Services (read, switched), a
 * canary's Pods (read), and workload changes of image and replicas. Each write is safe to
 * repeat: a workload already at the image and replicas is not patched, a Service already
 * pointing at the colour is patched to the same.
 */
export class TrafficEffects {
  constructor(private readonly deps: TrafficEffectsDeps) {}

  /** The Services by `namespace/name` (`null`: missing). */
  async services(keys: readonly ObjectKey[]): Promise<Map<string, ServiceView | null>> {
    const read = await Promise.all(
      keys.map(async (k) => [`${k.namespace}/${k.name}`, await this.deps.services.get(k)] as const),
    );
    return new Map(read);
  }

  /** The Pods of each canary workload observed, by its key. */
  async pods(
    entries: readonly RolloutWorkload[],
    observed: ReadonlyMap<string, Workload | null>,
  ): Promise<Map<string, PodView[]>> {
    const pods = new Map<string, PodView[]>();
    for (const entry of entries.filter((e) => e.role === 'canary')) {
      const workload = observed.get(workloadKey(entry));
      const selector = workload ? podSelectorOf(workload) : {};
      if (!workload || Object.keys(selector).length === 0) continue;
      pods.set(workloadKey(entry), await this.deps.pods.list(workload.namespace, selector));
    }
    return pods;
  }

  /** `apply`: each workload gets the image and replicas asked for; the rollout remembers what it had before. */
  async apply(
    cv: StoredContainerVersion,
    spec: ContainerVersionSpec,
    rollout: RolloutState,
    changes: readonly WorkloadChange[],
    then: RolloutTransition,
  ): Promise<WorkloadsChange> {
    const { namespace: cvNamespace, name } = cv.metadata;
    const entries = [...(rollout.workloads ?? [])];
    const observed = new Map<string, Workload | null>();
    let patchedAny = false;
    for (const change of changes) {
      const namespace = change.namespace ?? cvNamespace;
      const key = workloadKey(change);
      const current = await this.deps.workloads.get(change.kind, { namespace, name: change.name });
      observed.set(key, current);
      if (!current) continue;
      const container =
        current.containers.find((c) => c.name === spec.container) ??
        current.initContainers.find((c) => c.name === spec.container);
      const patch: { metadata?: object; spec?: Record<string, unknown> } = {};
      if (change.image !== undefined && container && container.image !== change.image) {
        const plan = planContainerPatch(current, spec.container, {
          image: change.image,
          digest: digestOfImage(change.image) ?? change.image,
          version: change.restore ? '' : rollout.version,
          containerVersion: `${cvNamespace}/${name}`,
        });
        if (plan.action === 'patch') Object.assign(patch, plan.patch);
        if (change.restore && patch.metadata)
          patch.metadata = {
            annotations: {
              [Annotation.ChangeCause]: `cvm: ${cvNamespace}/${name} rolled ${spec.container} back to ${change.image}`,
              [Annotation.Digest]: digestOfImage(change.image) ?? '',
            },
          };
      }
      if (change.replicas !== undefined && replicasOf(current) !== change.replicas)
        patch.spec = { ...(patch.spec ?? {}), replicas: change.replicas };
      const index = entries.findIndex((e) => workloadKey(e) === key);
      const before = index >= 0 ? entries[index] : undefined;
      let after = current;
      if (Object.keys(patch).length > 0) {
        after = await this.deps.workloads.patch(
          change.kind,
          { namespace, name: change.name },
          patch,
        );
        patchedAny = true;
        if (patch.metadata && !change.restore) this.deps.patched?.();
      }
      observed.set(key, after);
      const stamp = Object.keys(patch).length > 0 ? progressingStamp(current) : undefined;
      const entry: RolloutWorkload = {
        ...(before ?? {}),
        kind: change.kind,
        name: change.name,
        ...(change.namespace ? { namespace: change.namespace } : {}),
        ...(change.role ? { role: change.role } : {}),
        uid: current.uid,
        generation: after.generation,
        ...(before?.previousImage || !container?.image ? {} : { previousImage: container.image }),
        previousReplicas: before?.previousReplicas ?? replicasOf(current),
        ...(stamp ? { progressStamp: stamp } : {}),
      };
      if (index >= 0) entries[index] = entry;
      else entries.push(entry);
    }
    const deadline = this.deps.now().getTime() + spec.rollback.progressDeadlineSeconds * 1000;
    return {
      rollout: {
        ...then,
        workloads: entries,
        ...(patchedAny || !rollout.progressDeadlineAt
          ? { progressDeadlineAt: iso(new Date(deadline)) }
          : {}),
      },
      observed,
    };
  }

  /** `route`: the Service sends traffic to `target`; an Event on the CV says so. */
  async route(
    cv: StoredContainerVersion,
    service: string,
    target: ServiceTarget,
    reason: Reason,
    message: string,
  ): Promise<void> {
    await this.deps.services.route({ namespace: cv.metadata.namespace, name: service }, target);
    await this.deps.events.record(cvReference(cv), 'Normal', reason, message);
  }
}
