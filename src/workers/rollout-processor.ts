import type { ContainerVersionSpec } from '../api/container-version.js';
import { ConditionType, Reason } from '../api/conditions.js';
import { validateSpec } from '../api/validate.js';
import { parseRepository } from '../events/image-ref.js';
import type { Logger } from '../observability/logger.js';
import type { RolloutJobData } from '../queue/rollout-queue.js';
import type { RegistryClient, RepositoryRef } from '../registry/registry-client.js';
import { blockedConditions, cvReference, writeStatus } from './cv-status.js';
import { PermanentJobError, RetryLaterError } from '../queue/job-errors.js';
import {
  checkImageAge,
  checkPlatforms,
  checkRegression,
  checkScan,
  type Verdict,
} from './image-policy.js';
import { Annotation, digestOfImage, planContainerPatch } from './plan-container-patch.js';
import type {
  ContainerVersionStore,
  EventRecorder,
  HistoryStore,
  NodeInfo,
  StoredContainerVersion,
  VerifyRunner,
  Workload,
  WorkloadClient,
} from './ports.js';
import { nameVersion } from './version-name.js';
import { watchRollout } from './watch-rollout.js';

/** What the processor reports to metrics and logs. */
export type RolloutResult =
  'Succeeded' | 'RolledBack' | 'Failed' | 'Unchanged' | 'Blocked' | 'Gone' | 'Suspended';

export interface RolloutObserver {
  patched(data: RolloutJobData): void;
  finished(result: RolloutResult, durationSeconds: number | undefined): void;
}

export interface RolloutDeps {
  store: ContainerVersionStore;
  workloads: WorkloadClient;
  nodes: NodeInfo;
  events: EventRecorder;
  history: HistoryStore;
  verify: VerifyRunner;
  registries: { for(registryHost: string): RegistryClient };
  logger: Logger;
  now: () => Date;
  /** How often a rollout in progress is looked at. Default 1000 ms. */
  watchIntervalMs?: number;
  /** PEM public key: when set, images must carry a cosign signature made with it. */
  cosignPublicKey?: string;
  observer?: RolloutObserver;
}

interface Target {
  cv: StoredContainerVersion;
  spec: ContainerVersionSpec;
  repo: RepositoryRef;
  registry: RegistryClient;
  digest: string;
}

const iso = (date: Date) => date.toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * One rollout of one ContainerVersion (DESIGN §4): re-read the CV, resolve the tag now, validate,
 * patch, watch, roll back on failure, record. Every step tolerates running again after a crash:
 * the rollout's start is written to the CV's status before any workload is patched, so a job that
 * is picked up again watches and records the same rollout (one history entry), and a patch to a
 * workload already at the digest is skipped.
 */
export class RolloutProcessor {
  constructor(private readonly deps: RolloutDeps) {}

  async process(data: RolloutJobData): Promise<RolloutResult> {
    const log = this.deps.logger.child({
      cv: `${data.namespace}/${data.name}`,
      trigger: data.trigger.kind,
    });
    const cv = await this.deps.store.get({ namespace: data.namespace, name: data.name });
    if (!cv || cv.metadata.uid !== data.uid) return 'Gone';
    const validation = validateSpec(cv.spec);
    if (!validation.ok) {
      await writeStatus(
        this.deps,
        cv,
        {},
        blockedConditions(Reason.InvalidSpec, validation.message, cv.metadata.generation),
      );
      return 'Blocked';
    }
    const spec = validation.value;
    if (spec.strategy.type !== 'Rolling') {
      // Accepted by the schema (the API is stable) but not built yet: never fall back to Rolling silently.
      const message = `spec.strategy.type ${spec.strategy.type} is not supported by this version of cvm yet; use Rolling`;
      await writeStatus(
        this.deps,
        cv,
        {},
        blockedConditions(Reason.InvalidSpec, message, cv.metadata.generation),
      );
      return 'Blocked';
    }
    if (spec.suspend) {
      await writeStatus(this.deps, cv, {}, [
        {
          type: ConditionType.Suspended,
          status: 'True',
          reason: Reason.Suspended,
          message: 'spec.suspend is true',
          observedGeneration: cv.metadata.generation,
        },
      ]);
      return 'Suspended';
    }
    const repo = parseRepository(spec.imageRepo);
    const registry = this.deps.registries.for(repo.registry);
    const resolved = await registry.resolveTag(repo, spec.tag);
    const lastEvent = data.trigger.source
      ? {
          lastEvent: {
            source: data.trigger.source,
            receivedAt: data.trigger.receivedAt,
            ...(data.trigger.digest ? { digest: data.trigger.digest } : {}),
          },
        }
      : {};
    if (!resolved) {
      // The event may have arrived before the registry shows the tag: retried, then reported.
      await writeStatus(
        this.deps,
        cv,
        lastEvent,
        blockedConditions(
          Reason.DigestNotFound,
          `tag ${spec.tag} not found in ${repo.registry}/${repo.repository}`,
          cv.metadata.generation,
        ),
      );
      throw new Error(`tag ${spec.tag} not found in ${repo.registry}/${repo.repository}`);
    }
    const target: Target = { cv, spec, repo, registry, digest: resolved.digest };
    log.debug({ digest: resolved.digest }, 'tag resolved');
    const workloads = await this.deps.workloads.list(cv.metadata.namespace, spec.selector);
    if (workloads.length === 0) {
      await writeStatus(
        this.deps,
        cv,
        lastEvent,
        blockedConditions(
          Reason.NoMatchingWorkloads,
          `no Deployment, StatefulSet, DaemonSet or CronJob in ${cv.metadata.namespace} matches the selector`,
          cv.metadata.generation,
        ),
      );
      return 'Blocked';
    }
    if (cv.status?.failedDigests?.includes(resolved.digest))
      return this.#knownBad(target, workloads, log);

    const inProgress = cv.status?.lastRollout;
    const resuming = inProgress?.result === 'Progressing' && inProgress.digest === resolved.digest;
    const probe = { image: '', digest: resolved.digest, version: '', containerVersion: '' };
    const plans = workloads.map((w) => planContainerPatch(w, spec.container, probe).action);
    if (plans.every((action) => action === 'missing-container')) {
      await writeStatus(
        this.deps,
        cv,
        lastEvent,
        blockedConditions(
          Reason.ContainerNotFound,
          `no selected workload has a container named ${spec.container}`,
          cv.metadata.generation,
        ),
      );
      return 'Blocked';
    }
    const atDigest = plans.every((action) => action !== 'patch');
    if (!resuming && atDigest && cv.status?.currentDigest === resolved.digest) {
      if (
        Object.keys(lastEvent).length > 0 ||
        cv.status?.observedGeneration !== cv.metadata.generation
      ) {
        await writeStatus(this.deps, cv, lastEvent);
      }
      return 'Unchanged';
    }

    let version: string;
    let startedAt: string;
    let current = cv;
    if (resuming) {
      version = inProgress.version;
      startedAt = inProgress.startedAt;
      log.info({ digest: resolved.digest, version }, 'resuming rollout');
    } else {
      const checked = await this.#validate(target, workloads);
      if (checked.outcome === 'blocked') return 'Blocked';
      version = checked.version;
      startedAt = iso(this.deps.now());
      current = await writeStatus(
        this.deps,
        cv,
        {
          ...lastEvent,
          lastRollout: {
            version,
            digest: resolved.digest,
            startedAt,
            // null removes the previous rollout's end time: the status is merge-patched.
            finishedAt: null as unknown as undefined,
            result: 'Progressing',
            message: '',
          },
        },
        [
          {
            type: ConditionType.Progressing,
            status: 'True',
            reason: Reason.RolloutStarted,
            message: `rolling out ${version}`,
            observedGeneration: cv.metadata.generation,
          },
        ],
      );
      await this.deps.events.record(
        cvReference(cv),
        'Normal',
        Reason.RolloutStarted,
        `rolling out ${repo.registry}/${repo.repository}:${version}@${resolved.digest}`,
      );
    }
    // The repository as the CV names it, so the image reads as people wrote it: repo:version@digest.
    const image = `${spec.imageRepo}:${version}@${resolved.digest}`;
    const patched = await this.#apply(target, workloads, image, version, data);
    const deadlineMs = Date.parse(startedAt) + spec.rollback.progressDeadlineSeconds * 1000;
    const outcome = await watchRollout(patched, {
      workloads: this.deps.workloads,
      deadlineMs,
      pollIntervalMs: this.deps.watchIntervalMs ?? 1_000,
      now: () => this.deps.now().getTime(),
    });
    const finishedAt = iso(this.deps.now());
    const durationSeconds = (Date.parse(finishedAt) - Date.parse(startedAt)) / 1000;
    if (outcome.outcome === 'done') {
      await this.#succeeded(target, current, {
        image,
        version,
        startedAt,
        finishedAt,
        patched,
        trigger: data.trigger.kind,
      });
      this.deps.observer?.finished('Succeeded', durationSeconds);
      log.info({ image, durationSeconds }, 'rollout succeeded');
      return 'Succeeded';
    }
    const result = await this.#failed(target, current, patched, {
      image,
      version,
      startedAt,
      finishedAt,
      message: outcome.message,
      reason: outcome.reason,
      trigger: data.trigger.kind,
    });
    this.deps.observer?.finished(result, durationSeconds);
    log.warn({ image, result, message: outcome.message }, 'rollout failed');
    return result;
  }

  /** Registry facts and policy checks before anything is patched. */
  async #validate(
    target: Target,
    workloads: Workload[],
  ): Promise<{ outcome: 'ok'; version: string } | { outcome: 'blocked' }> {
    const { cv, spec, repo, registry, digest } = target;
    const details = await registry.describe(repo, digest);
    const pattern = spec.versionPattern ? new RegExp(spec.versionPattern) : undefined;
    const matchingTags = pattern
      ? (details.tags?.filter((t) => pattern.test(t)) ??
        (await registry.tagsOf(repo, digest, (t) => pattern.test(t))))
      : [];
    const version = nameVersion({ digest, matchingTags, labels: details.labels });
    const runningDigest = workloads
      .map((w) => w.containers.concat(w.initContainers).find((c) => c.name === spec.container))
      .map((c) => digestOfImage(c?.image))
      .find((d) => d !== undefined && d !== digest);
    const runningCreated = runningDigest
      ? await registry.describe(repo, runningDigest).then(
          (d) => d.created ?? d.pushedAt,
          () => undefined,
        )
      : undefined;

    const verdicts: (() => Promise<Verdict>)[] = [
      async () => checkPlatforms(details.platforms, await this.deps.nodes.architectures()),
      () =>
        Promise.resolve(
          checkRegression(
            details.created ?? details.pushedAt,
            runningCreated,
            spec.policy.allowRegression,
          ),
        ),
      () =>
        Promise.resolve(
          checkImageAge(
            details.pushedAt ?? details.created,
            spec.policy.minImageAgeSeconds,
            this.deps.now(),
          ),
        ),
      async () => checkScan(await registry.scanFindings(repo, digest), spec.policy.maxSeverity),
      async () => this.#checkSignature(target),
      async () => this.#runVerify(target, version),
    ];
    for (const check of verdicts) {
      const verdict = await check();
      if (verdict.outcome === 'pass') continue;
      if (verdict.outcome === 'wait') {
        await writeStatus(this.deps, cv, {}, [
          {
            type: ConditionType.Progressing,
            status: 'False',
            reason: verdict.reason,
            message: verdict.message,
            observedGeneration: cv.metadata.generation,
          },
        ]);
        throw new RetryLaterError(verdict.message, verdict.retryAfterMs);
      }
      const message = `${version} (${digest}) was not rolled out: ${verdict.message}`;
      await writeStatus(
        this.deps,
        cv,
        {
          failedDigests: [...(cv.status?.failedDigests ?? []), digest],
          lastRollout: {
            version,
            digest,
            startedAt: iso(this.deps.now()),
            finishedAt: iso(this.deps.now()),
            result: 'Failed',
            message,
          },
        },
        [
          {
            type: ConditionType.Progressing,
            status: 'False',
            reason: verdict.reason,
            message,
            observedGeneration: cv.metadata.generation,
          },
          {
            type: ConditionType.Degraded,
            status: 'True',
            reason: verdict.reason,
            message,
            observedGeneration: cv.metadata.generation,
          },
        ],
      );
      this.deps.observer?.finished('Failed', undefined);
      return { outcome: 'blocked' };
    }
    return { outcome: 'ok', version };
  }

  async #checkSignature(target: Target): Promise<Verdict> {
    if (!this.deps.cosignPublicKey) return { outcome: 'pass' };
    const check = await target.registry.verifySignature(
      target.repo,
      target.digest,
      this.deps.cosignPublicKey,
    );
    return check.verified
      ? { outcome: 'pass' }
      : {
          outcome: 'fail',
          reason: Reason.SignatureInvalid,
          message: `signature check failed: ${check.reason}`,
        };
  }

  async #runVerify(target: Target, version: string): Promise<Verdict> {
    const { cv, spec, digest } = target;
    const image = `${spec.imageRepo}:${version}@${digest}`;
    for (const check of spec.verify) {
      const run = await this.deps.verify.run(
        cv,
        {
          name: check.name,
          image: check.image ?? image,
          command: check.command,
          timeoutSeconds: check.timeoutSeconds,
          ...(check.args ? { args: check.args } : {}),
        },
        { CVM_IMAGE: image, CVM_VERSION: version, CVM_DIGEST: digest },
      );
      if (!run.succeeded)
        return {
          outcome: 'fail',
          reason: Reason.VerifyFailed,
          message: `verify check ${check.name} failed: ${run.message}`,
        };
    }
    return { outcome: 'pass' };
  }

  /** Patches every workload that does not run the digest yet; returns the workloads to watch. */
  async #apply(
    target: Target,
    workloads: Workload[],
    image: string,
    version: string,
    data: RolloutJobData,
  ): Promise<Workload[]> {
    const { cv, spec, digest } = target;
    const desired = {
      image,
      digest,
      version,
      containerVersion: `${cv.metadata.namespace}/${cv.metadata.name}`,
    };
    const touched: Workload[] = [];
    for (const workload of workloads) {
      const plan = planContainerPatch(workload, spec.container, desired);
      if (plan.action === 'missing-container') {
        await this.deps.events.record(
          workloadReference(workload),
          'Warning',
          Reason.ContainerNotFound,
          `${workload.kind.toLowerCase()} ${workload.name} has no container ${spec.container}; ContainerVersion ${cv.metadata.name} leaves it alone`,
        );
        continue;
      }
      touched.push(
        plan.action === 'patch'
          ? await this.deps.workloads.patch(
              workload.kind,
              { namespace: workload.namespace, name: workload.name },
              plan.patch,
            )
          : workload,
      );
      if (plan.action === 'patch') this.deps.observer?.patched(data);
    }
    if (touched.length === 0)
      throw new PermanentJobError(`no selected workload has a container named ${spec.container}`);
    return touched;
  }

  async #succeeded(
    target: Target,
    cv: StoredContainerVersion,
    r: {
      image: string;
      version: string;
      startedAt: string;
      finishedAt: string;
      patched: Workload[];
      trigger: string;
    },
  ): Promise<void> {
    const { spec, digest } = target;
    const generation = cv.metadata.generation;
    const message = `${r.version} rolled out to ${r.patched.map((w) => `${w.kind.toLowerCase()}/${w.name}`).join(', ')}`;
    await writeStatus(
      this.deps,
      cv,
      {
        currentVersion: r.version,
        currentDigest: digest,
        currentImage: r.image,
        lastRollout: {
          version: r.version,
          digest,
          startedAt: r.startedAt,
          finishedAt: r.finishedAt,
          result: 'Succeeded',
          message,
        },
      },
      [
        {
          type: ConditionType.Ready,
          status: 'True',
          reason: Reason.RolloutSucceeded,
          message,
          observedGeneration: generation,
        },
        {
          type: ConditionType.Progressing,
          status: 'False',
          reason: Reason.RolloutSucceeded,
          message,
          observedGeneration: generation,
        },
        {
          type: ConditionType.Degraded,
          status: 'False',
          reason: Reason.RolloutSucceeded,
          message: '',
          observedGeneration: generation,
        },
      ],
    );
    for (const w of r.patched)
      await this.deps.events.record(
        workloadReference(w),
        'Normal',
        Reason.RolloutSucceeded,
        `${spec.container}=${r.image}`,
      );
    if (spec.history.enabled) {
      await this.deps.history.add(
        cv,
        {
          id: `${digest}@${r.startedAt}`,
          version: r.version,
          digest,
          image: r.image,
          ...(r.patched[0]?.annotations[Annotation.PreviousImage]
            ? { previousImage: r.patched[0].annotations[Annotation.PreviousImage] }
            : {}),
          startedAt: r.startedAt,
          finishedAt: r.finishedAt,
          result: 'Succeeded',
          message,
          trigger: r.trigger,
          workloads: r.patched.map((w) => `${w.kind}/${w.name}`),
        },
        spec.history.limit,
      );
    }
  }

  /** Remembers the digest, rolls back when enabled (and watches that), records. */
  async #failed(
    target: Target,
    cv: StoredContainerVersion,
    patched: Workload[],
    r: {
      image: string;
      version: string;
      startedAt: string;
      finishedAt: string;
      message: string;
      reason: string;
      trigger: string;
    },
  ): Promise<RolloutResult> {
    const { spec, digest } = target;
    const generation = cv.metadata.generation;
    const failedDigests = [...new Set([...(cv.status?.failedDigests ?? []), digest])];
    let stored = await writeStatus(
      this.deps,
      cv,
      {
        failedDigests,
        lastRollout: {
          version: r.version,
          digest,
          startedAt: r.startedAt,
          finishedAt: r.finishedAt,
          result: 'Failed',
          message: r.message,
        },
      },
      [
        {
          type: ConditionType.Progressing,
          status: 'False',
          reason: Reason.ProgressDeadlineExceeded,
          message: r.message,
          observedGeneration: generation,
        },
        {
          type: ConditionType.Degraded,
          status: 'True',
          reason: Reason.RolloutFailed,
          message: r.message,
          observedGeneration: generation,
        },
      ],
    );
    for (const w of patched)
      await this.deps.events.record(
        workloadReference(w),
        'Warning',
        Reason.RolloutFailed,
        r.message,
      );
    let result: RolloutResult = 'Failed';
    let message = r.message;
    if (spec.rollback.enabled) {
      const rolledBack = await this.#rollback(target, patched);
      result = rolledBack.ok ? 'RolledBack' : 'Failed';
      message = `${r.message}; ${rolledBack.message}`;
      stored = await writeStatus(
        this.deps,
        stored,
        {
          lastRollout: {
            version: r.version,
            digest,
            startedAt: r.startedAt,
            finishedAt: iso(this.deps.now()),
            result,
            message,
          },
        },
        [
          {
            type: ConditionType.Ready,
            status: rolledBack.ok ? 'True' : 'False',
            reason: rolledBack.ok ? Reason.RolledBack : Reason.RollbackFailed,
            message,
            observedGeneration: generation,
          },
          {
            type: ConditionType.Degraded,
            status: 'True',
            reason: rolledBack.ok ? Reason.RolledBack : Reason.RollbackFailed,
            message,
            observedGeneration: generation,
          },
        ],
      );
    }
    if (spec.history.enabled) {
      await this.deps.history.add(
        stored,
        {
          id: `${digest}@${r.startedAt}`,
          version: r.version,
          digest,
          image: r.image,
          ...(patched[0]?.annotations[Annotation.PreviousImage]
            ? { previousImage: patched[0].annotations[Annotation.PreviousImage] }
            : {}),
          startedAt: r.startedAt,
          finishedAt: iso(this.deps.now()),
          result: result === 'RolledBack' ? 'RolledBack' : 'Failed',
          message,
          trigger: r.trigger,
          workloads: patched.map((w) => `${w.kind}/${w.name}`),
        },
        spec.history.limit,
      );
    }
    return result;
  }

  /** Patches each workload back to the image it ran before (its previous-image annotation) and watches. */
  async #rollback(
    target: Target,
    workloads: Workload[],
  ): Promise<{ ok: boolean; message: string }> {
    const { spec, cv } = target;
    const restored: Workload[] = [];
    for (const w of workloads) {
      const current =
        (await this.deps.workloads.get(w.kind, { namespace: w.namespace, name: w.name })) ?? w;
      const previous = current.annotations[Annotation.PreviousImage];
      if (!previous) continue;
      const plan = planContainerPatch(current, spec.container, {
        image: previous,
        digest: digestOfImage(previous) ?? previous,
        version: current.annotations[Annotation.Version] ?? '',
        containerVersion: `${cv.metadata.namespace}/${cv.metadata.name}`,
      });
      if (plan.action !== 'patch') continue;
      const patch = plan.patch as { metadata: { annotations: Record<string, string> } };
      // Rolling back is not a new rollout: keep the annotation pointing at what was rolled back from.
      patch.metadata.annotations = {
        [Annotation.ChangeCause]: `cvm: ${cv.metadata.namespace}/${cv.metadata.name} rolled ${spec.container} back to ${previous}`,
        [Annotation.Digest]: digestOfImage(previous) ?? '',
        [Annotation.Version]: versionOfImage(previous),
      };
      restored.push(
        await this.deps.workloads.patch(w.kind, { namespace: w.namespace, name: w.name }, patch),
      );
      await this.deps.events.record(
        workloadReference(w),
        'Normal',
        Reason.RolledBack,
        `${spec.container} rolled back to ${previous}`,
      );
    }
    if (restored.length === 0) return { ok: false, message: 'no previous image to roll back to' };
    const outcome = await watchRollout(restored, {
      workloads: this.deps.workloads,
      deadlineMs: this.deps.now().getTime() + spec.rollback.progressDeadlineSeconds * 1000,
      pollIntervalMs: this.deps.watchIntervalMs ?? 1_000,
      now: () => this.deps.now().getTime(),
    });
    return outcome.outcome === 'done'
      ? { ok: true, message: 'rolled back to the previous image' }
      : { ok: false, message: `rollback did not finish: ${outcome.message}` };
  }

  /** The digest failed before: never redeployed; workloads still on it are rolled back. */
  async #knownBad(target: Target, workloads: Workload[], log: Logger): Promise<RolloutResult> {
    const { cv, spec, digest } = target;
    const onBad = workloads.filter((w) =>
      w.containers
        .concat(w.initContainers)
        .some((c) => c.name === spec.container && digestOfImage(c.image) === digest),
    );
    if (onBad.length > 0 && spec.rollback.enabled) {
      log.warn({ digest }, 'workloads still run a failed digest; rolling back');
      await this.#rollback(target, onBad);
    }
    const message = `${digest} failed before and is not rolled out again; push a new image`;
    await writeStatus(this.deps, cv, {}, [
      {
        type: ConditionType.Progressing,
        status: 'False',
        reason: Reason.KnownBadDigest,
        message,
        observedGeneration: cv.metadata.generation,
      },
    ]);
    return 'Blocked';
  }
}

/** `1.4.2` from `ghcr.io/acme/api:1.4.2@sha256:…`; empty when the image names no tag. */
function versionOfImage(image: string): string {
  const withoutDigest = image.includes('@') ? image.slice(0, image.lastIndexOf('@')) : image;
  const lastPart = withoutDigest.slice(withoutDigest.lastIndexOf('/') + 1);
  return lastPart.includes(':') ? lastPart.slice(lastPart.lastIndexOf(':') + 1) : '';
}

/** The ObjectReference of a workload, for Events. */
export function workloadReference(w: Workload) {
  return {
    apiVersion: w.kind === 'CronJob' ? 'batch/v1' : 'apps/v1',
    kind: w.kind,
    namespace: w.namespace,
    name: w.name,
    uid: w.uid,
  };
}
