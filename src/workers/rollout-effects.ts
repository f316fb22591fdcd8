import type {
  ContainerVersionSpec,
  RolloutState,
  RolloutWorkload,
} from '../api/container-version.js';
import { Reason } from '../api/conditions.js';
import { parseRepository } from '../events/image-ref.js';
import type { Logger } from '../observability/logger.js';
import type { RegistryClient } from '../registry/registry-client.js';
import {
  Annotation,
  digestOfImage,
  planContainerPatch,
  versionOfImage,
} from './plan-container-patch.js';
import type {
  EventRecorder,
  StoredContainerVersion,
  VerifyJobState,
  VerifyRunner,
  Workload,
  WorkloadClient,
} from './ports.js';
import { workloadKey, workloadReference, type RolloutFacts } from './rollout-facts.js';
import { iso } from './rollout-record.js';
import { progressingStamp } from './rollout-status.js';

export interface WorkloadEffectsDeps {
  workloads: WorkloadClient;
  events: EventRecorder;
  verify: VerifyRunner;
  registries: { for(registryHost: string): RegistryClient };
  logger: Logger;
  now: () => Date;
  /** Called once per workload patched to a new version (push-to-patch latency). */
  patched?: () => void;
}

/** What an effect leaves for the next decision: the rollout's new state and what it read. */
export interface WorkloadsChange {
  rollout: Partial<RolloutState>;
  observed?: Map<string, Workload | null>;
}

/**
 * The reads and the writes to workloads and Jobs that rollout actions stand for. Each one is
 * safe to repeat: a patch to a workload already at the image is skipped, a verify Job is found
 * by its deterministic name, a rollback patch to an image already restored is skipped.
 */
export class WorkloadEffects {
  constructor(private readonly deps: WorkloadEffectsDeps) {}

  /**
   * `resolve`: the tag's digest now and the selected workloads. A digest the CV has not run and
   * not refused is about to be validated: its manifest and config are read meanwhile (when the
   * registry client keeps them), while the workloads are still being listed.
   */
  async resolve(
    spec: ContainerVersionSpec,
    namespace: string,
    status?: { currentDigest?: string; failedDigests?: readonly string[] },
  ): Promise<Partial<RolloutFacts>> {
    // BlueGreen's namespace variant: the colours are namespaces of their own.
    const namespaces =
      spec.strategy.type === 'BlueGreen' && spec.strategy.blueGreen?.namespaces
        ? spec.strategy.blueGreen.namespaces
        : [namespace];
    const repo = parseRepository(spec.imageRepo);
    const registry = this.deps.registries.for(repo.registry);
    const tagged = this.tagDigest(spec).then((digest) => {
      if (digest && digest !== status?.currentDigest && !status?.failedDigests?.includes(digest))
        registry.warm?.(repo, digest);
      return digest;
    });
    const [digest, ...lists] = await Promise.all([
      tagged,
      ...namespaces.map((ns) => this.deps.workloads.list(ns, spec.selector)),
    ]);
    return { resolved: digest ? { digest } : null, selected: lists.flat() };
  }

  /** The digest the followed tag points to now (one registry HEAD); null when the tag does not exist. */
  async tagDigest(spec: ContainerVersionSpec): Promise<string | null> {
    const repo = parseRepository(spec.imageRepo);
    return (
      (await this.deps.registries.for(repo.registry).resolveTag(repo, spec.tag))?.digest ?? null
    );
  }

  /** `observe`: the rollout's workloads (or, while verifying, its verify Jobs) as they are now. */
  async observe(cv: StoredContainerVersion, rollout: RolloutState): Promise<Partial<RolloutFacts>> {
    const namespace = cv.metadata.namespace;
    if (rollout.phase === 'Verifying') {
      const jobs = await Promise.all(
        (rollout.verify ?? []).map(
          async (v) => [v.job, await this.deps.verify.observe(namespace, v.job)] as const,
        ),
      );
      return { verifyJobs: new Map<string, VerifyJobState>(jobs) };
    }
    const read = await Promise.all(
      (rollout.workloads ?? []).map(
        async (w) =>
          [
            workloadKey(w),
            await this.deps.workloads.get(w.kind, {
              namespace: w.namespace ?? namespace,
              name: w.name,
            }),
          ] as const,
      ),
    );
    return { observed: new Map(read) };
  }

  /** `verify`: starts the Jobs of these checks; resolves to the rollout's verify list. */
  async verify(
    cv: StoredContainerVersion,
    spec: ContainerVersionSpec,
    rollout: RolloutState,
    names: readonly string[],
    /** More variables for the checks (BlueGreen's Service URLs). */
    extraEnv: Record<string, string> = {},
  ): Promise<WorkloadsChange> {
    const env = {
      CVM_IMAGE: rollout.image,
      CVM_VERSION: rollout.version,
      CVM_DIGEST: rollout.digest,
      ...extraEnv,
    };
    const started = [...(rollout.verify ?? [])];
    for (const check of spec.verify.filter((c) => names.includes(c.name))) {
      const job = await this.deps.verify.start(
        cv,
        {
          name: check.name,
          image: check.image ?? rollout.image,
          command: check.command,
          timeoutSeconds: check.timeoutSeconds,
          ...(check.args ? { args: check.args } : {}),
        },
        env,
      );
      started.push({ name: check.name, job, startedAt: iso(this.deps.now()) });
    }
    return { rollout: { verify: started } };
  }

  /** Deletes the rollout's verify Jobs (their Pods go too). */
  async removeVerifyJobs(cv: StoredContainerVersion, rollout: RolloutState): Promise<void> {
    for (const v of rollout.verify ?? [])
      await this.deps.verify.remove(cv.metadata.namespace, v.job);
  }

  /**
   * `patch`: every selected workload that does not run the digest gets it; the rollout remembers
   * each workload it covers, its previous image, the generation the patch produced and its
   * Progressing condition from before, and its deadline starts.
   */
  async patch(
    cv: StoredContainerVersion,
    spec: ContainerVersionSpec,
    rollout: RolloutState,
    listed?: readonly Workload[],
  ): Promise<WorkloadsChange> {
    const { namespace, name } = cv.metadata;
    // Listed earlier in the same run (moments ago), or listed now.
    const all = listed ?? (await this.deps.workloads.list(namespace, spec.selector));
    // A revert of drift under BlueGreen or Canary touches only the workloads it started with.
    const scope =
      rollout.heal && rollout.workloads?.length
        ? new Set(rollout.workloads.map((w) => workloadKey(w)))
        : undefined;
    const selected = scope
      ? all.filter((w) => scope.has(workloadKey({ kind: w.kind, name: w.name })))
      : all;
    const desired = {
      image: rollout.image,
      digest: rollout.digest,
      version: rollout.version,
      containerVersion: `${namespace}/${name}`,
    };
    const entries: RolloutWorkload[] = [];
    const observed = new Map<string, Workload | null>();
    for (const workload of selected) {
      const plan = planContainerPatch(workload, spec.container, desired);
      if (plan.action === 'missing-container') {
        await this.deps.events.record(
          workloadReference(workload),
          'Warning',
          Reason.ContainerNotFound,
          `${workload.kind.toLowerCase()} ${workload.name} has no container ${spec.container}; ContainerVersion ${name} leaves it alone`,
        );
        continue;
      }
      const before = progressingStamp(workload);
      const after =
        plan.action === 'patch'
          ? await this.deps.workloads.patch(
              workload.kind,
              { namespace, name: workload.name },
              plan.patch,
            )
          : workload;
      if (plan.action === 'patch') this.deps.patched?.();
      // Patched by an earlier run that died: the annotation it wrote names the previous image.
      const previousImage =
        plan.action === 'patch'
          ? plan.previousImage
          : workload.annotations[Annotation.PreviousImage];
      entries.push({
        kind: workload.kind,
        name: workload.name,
        uid: workload.uid,
        ...(previousImage ? { previousImage } : {}),
        generation: after.generation,
        ...(plan.action === 'patch' && before ? { progressStamp: before } : {}),
      });
      observed.set(workloadKey({ kind: workload.kind, name: workload.name }), after);
    }
    const deadline = this.deps.now().getTime() + spec.rollback.progressDeadlineSeconds * 1000;
    return {
      rollout: { workloads: entries, progressDeadlineAt: iso(new Date(deadline)) },
      observed,
    };
  }

  /**
   * `rollback`: each workload goes back to the image it ran before this rollout (Events say so);
   * the rollout's workloads then carry the rollback's generations and a new deadline.
   */
  async rollback(
    cv: StoredContainerVersion,
    spec: ContainerVersionSpec,
    rollout: RolloutState,
    message: string,
    /** The workloads as this run read them moments ago (when the failure was seen). */
    seen?: ReadonlyMap<string, Workload | null>,
  ): Promise<WorkloadsChange> {
    const { namespace, name } = cv.metadata;
    const entries: RolloutWorkload[] = [];
    const observed = new Map<string, Workload | null>();
    for (const entry of rollout.workloads ?? []) {
      const read = seen?.get(workloadKey(entry));
      const current =
        read !== undefined
          ? read
          : await this.deps.workloads.get(entry.kind, { namespace, name: entry.name });
      if (!current) continue;
      const previous = entry.previousImage;
      await this.deps.events.record(
        workloadReference(current),
        'Warning',
        Reason.RolloutFailed,
        message,
      );
      const plan = previous
        ? planContainerPatch(current, spec.container, {
            image: previous,
            digest: digestOfImage(previous) ?? previous,
            version: versionOfImage(previous) ?? '',
            containerVersion: `${namespace}/${name}`,
          })
        : undefined;
      let after = current;
      if (plan?.action === 'patch' && previous) {
        const patch = plan.patch as { metadata: { annotations: Record<string, string> } };
        // Rolling back is not a new rollout: the previous-image annotation keeps pointing at what was rolled back from.
        patch.metadata.annotations = {
          [Annotation.ChangeCause]: `cvm: ${namespace}/${name} rolled ${spec.container} back to ${previous}`,
          [Annotation.Digest]: digestOfImage(previous) ?? '',
          [Annotation.Version]: versionOfImage(previous) ?? '',
        };
        after = await this.deps.workloads.patch(entry.kind, { namespace, name: entry.name }, patch);
        await this.deps.events.record(
          workloadReference(current),
          'Normal',
          Reason.RolledBack,
          `${spec.container} rolled back to ${previous}`,
        );
      }
      const stamp = progressingStamp(current);
      entries.push({
        ...entry,
        generation: after.generation,
        ...(stamp ? { progressStamp: stamp } : {}),
      });
      observed.set(workloadKey(entry), after);
    }
    const deadline = this.deps.now().getTime() + spec.rollback.progressDeadlineSeconds * 1000;
    return {
      rollout: { workloads: entries, progressDeadlineAt: iso(new Date(deadline)) },
      observed,
    };
  }
}
