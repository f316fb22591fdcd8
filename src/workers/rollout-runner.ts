import type {
  ContainerVersionSpec,
  ContainerVersionStatus,
  RolloutState,
} from '../api/container-version.js';
import { ConditionType, Reason, type ConditionUpdate } from '../api/conditions.js';
import { validateSpec } from '../api/validate.js';
import { parseRepository } from '../events/image-ref.js';
import type { Logger } from '../observability/logger.js';
import { RetryLaterError } from '../queue/job-errors.js';
import type { RolloutJobData } from '../queue/rollout-queue.js';
import type { RegistryClient } from '../registry/registry-client.js';
import { applyConditions, blockedConditions, cvReference, writeStatus } from './cv-status.js';
import { validateImage } from './image-validation.js';
import type {
  ContainerVersionStore,
  EventRecorder,
  HistoryStore,
  NodeInfo,
  StoredContainerVersion,
  VerifyRunner,
  WorkloadClient,
} from './ports.js';
import { decideRollout } from './rollout-decision.js';
import { WorkloadEffects, type WorkloadsChange } from './rollout-effects.js';
import type { RolloutAction, RolloutFacts, RunOutcome } from './rollout-facts.js';
import { iso, rolloutRecord } from './rollout-record.js';
import { STRATEGIES } from './strategies/strategies.js';

/** What the runner reports to metrics. */
export interface RolloutObserver {
  patched(data: RolloutJobData): void;
  finished(result: RunOutcome, durationSeconds: number | undefined): void;
}

export interface RolloutRunnerDeps {
  store: ContainerVersionStore;
  workloads: WorkloadClient;
  nodes: NodeInfo;
  events: EventRecorder;
  history: HistoryStore;
  verify: VerifyRunner;
  registries: { for(registryHost: string): RegistryClient };
  logger: Logger;
  now: () => Date;
  /** Longest a waiting rollout sleeps without a watch event, ms (CVM_ROLLOUT_RECHECK_MS). Default 10 000. */
  recheckMs?: number;
  /** PEM public key: when set, images must carry a cosign signature made with it. */
  cosignPublicKey?: string;
  observer?: RolloutObserver;
}

/** Actions one job run carries out at most before it hands the rollout to a fresh job. */
const ACTIONS_PER_RUN = 32;

type Step =
  { cv: StoredContainerVersion; observed?: RolloutFacts['observed'] } | { outcome: RunOutcome };

/**
 * One job run of the rollout engine (ADR 0005) for one ContainerVersion: read the CV, then
 * decide ({@link decideRollout}), act, and decide again, until the rollout has to wait or nothing
 * is left to do. Waiting ends the run with a {@link RetryLaterError}: the queue holds the job as
 * delayed (no worker, no lock) until its recheck time, or until a watch event on the rollout's
 * workloads promotes it. Every action persists its result in the CV's `status.rollout` before
 * the next is decided, so a run that dies at any point is continued by the next run, in any
 * worker, from the state it left.
 */
export class RolloutRunner {
  constructor(private readonly deps: RolloutRunnerDeps) {}

  async run(data: RolloutJobData): Promise<RunOutcome> {
    const log = this.deps.logger.child({
      cv: `${data.namespace}/${data.name}`,
      trigger: data.trigger.kind,
    });
    const cv = await this.deps.store
      .get({ namespace: data.namespace, name: data.name })
      .catch(async (error: unknown) => {
        // Without the CV its conditions cannot be merged: the Event alone says so.
        await this.#stepFailed(unread(data), error, log);
        throw error;
      });
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
    if (cv.status?.rollout) log.debug({ phase: cv.status.rollout.phase }, 'resuming rollout');
    const run = new Run(this.deps, validation.value, data, log, cv.metadata.generation);
    try {
      return await run.loop(cv);
    } catch (error) {
      if (!(error instanceof RetryLaterError) && !(error instanceof StillBlockedError))
        await this.#stepFailed(cv, error, log);
      throw error;
    }
  }

  /**
   * A step that could not finish (an API server or registry that failed or hung past its
   * timeout) gives the rollout back to the queue, which retries it with backoff; the CV says so
   * meanwhile (Progressing=Unknown, StepFailed, and a Warning Event), best effort.
   */
  async #stepFailed(cv: StoredContainerVersion, error: unknown, log: Logger): Promise<void> {
    const message = `a step failed and is retried: ${error instanceof Error ? error.message : String(error)}`;
    log.warn({ err: { message } }, 'rollout step failed');
    try {
      if (!cv.status) {
        await this.deps.events.record(cvReference(cv), 'Warning', Reason.StepFailed, message);
        return;
      }
      await this.deps.store.patchStatus(
        { namespace: cv.metadata.namespace, name: cv.metadata.name },
        {
          conditions: applyConditions(
            cv.status?.conditions,
            [
              {
                type: ConditionType.Progressing,
                status: 'Unknown',
                reason: Reason.StepFailed,
                message,
                observedGeneration: cv.metadata.generation,
              },
            ],
            this.deps.now(),
          ),
        },
      );
      await this.deps.events.record(cvReference(cv), 'Warning', Reason.StepFailed, message);
    } catch {
      // The API server is what failed; the job's retry is the record that matters.
    }
  }
}

/** A blocked CV whose job should be retried with backoff (a tag the registry does not show yet). */
class StillBlockedError extends Error {
  override readonly name = 'StillBlockedError';
}

/** The state of one job run: what it read, and the lastEvent it still has to write. */
class Run {
  readonly #effects: WorkloadEffects;
  #pending: Partial<ContainerVersionStatus>;
  #recorded: RunOutcome | undefined;

  constructor(
    private readonly deps: RolloutRunnerDeps,
    private readonly spec: ContainerVersionSpec,
    private readonly data: RolloutJobData,
    private readonly log: Logger,
    /** The CV's metadata.generation: what the conditions this run writes observed. */
    private readonly generation: number,
  ) {
    this.#effects = new WorkloadEffects({ ...deps, patched: () => deps.observer?.patched(data) });
    const { trigger } = data;
    this.#pending = trigger.source
      ? {
          lastEvent: {
            source: trigger.source,
            receivedAt: trigger.receivedAt,
            ...(trigger.digest ? { digest: trigger.digest } : {}),
          },
        }
      : {};
  }

  async loop(start: StoredContainerVersion): Promise<RunOutcome> {
    let facts: RolloutFacts = { cv: start, spec: this.spec, now: this.deps.now() };
    for (let i = 0; i < ACTIONS_PER_RUN; i++) {
      const action = decideRollout(facts);
      this.log.debug(
        { action: action.type, phase: facts.cv.status?.rollout?.phase },
        'rollout action',
      );
      if (action.type === 'resolve') {
        facts = { ...facts, ...(await this.#effects.resolve(this.spec, start.metadata.namespace)) };
        continue;
      }
      if (action.type === 'observe') {
        facts = { ...facts, ...(await this.#effects.observe(facts.cv, rolloutOf(facts.cv))) };
        continue;
      }
      if (action.type === 'wait') return this.#wait(facts.cv, action);
      if (action.type === 'done') return this.#done(facts.cv, action);
      const step = await this.#act(facts, action);
      if ('outcome' in step) return step.outcome;
      const afterRecord = action.type === 'record';
      facts = {
        cv: step.cv,
        spec: this.spec,
        now: this.deps.now(),
        // A recorded rollout is followed by a fresh look at the tag: a push absorbed meanwhile starts the next one.
        ...(afterRecord ? {} : { resolved: facts.resolved }),
        ...(step.observed ? { observed: step.observed } : {}),
      };
    }
    throw new RetryLaterError('the run used its actions; a fresh run continues', 0);
  }

  async #act(facts: RolloutFacts, action: RolloutAction): Promise<Step> {
    const { cv } = facts;
    switch (action.type) {
      case 'validate':
        return this.#start(facts, action.digest, action.heal);
      case 'verify':
        return this.#change(
          cv,
          await this.#effects.verify(cv, this.spec, rolloutOf(cv), action.checks),
        );
      case 'patch': {
        const change = await this.#effects.patch(cv, this.spec, rolloutOf(cv));
        if ((change.rollout.workloads ?? []).length === 0)
          return this.#promote(cv, {
            phase: 'Recording',
            result: 'Failed',
            reason: Reason.ContainerNotFound,
            message: `no selected workload has a container named ${this.spec.container}`,
          });
        return this.#change(cv, { ...change, rollout: { ...change.rollout, phase: 'Waiting' } }, [
          this.#progressing(Reason.WaitingForRollout, `rolling out ${rolloutOf(cv).version}`),
        ]);
      }
      case 'promote':
        return this.#promote(cv, action.to);
      case 'rollback': {
        const change = await this.#effects.rollback(cv, this.spec, rolloutOf(cv), action.message);
        return this.#change(
          cv,
          {
            ...change,
            rollout: {
              ...change.rollout,
              phase: 'RollingBack',
              reason: action.reason,
              failure: action.message,
              message: `${action.message}; rolling back`,
            },
          },
          [
            this.#progressing(Reason.RollingBack, `${action.message}; rolling back`),
            this.#condition(ConditionType.Degraded, 'True', Reason.RolloutFailed, action.message),
          ],
        );
      }
      case 'record':
        return this.#record(cv);
      default:
        throw new Error(`the runner cannot carry out ${action.type} here`);
    }
  }

  /** `validate`: the image's checks, then the rollout's start, persisted before anything is patched. */
  async #start(facts: RolloutFacts, digest: string, heal: boolean): Promise<Step> {
    const { cv } = facts;
    const status = cv.status ?? {};
    const strategy = STRATEGIES[this.spec.strategy.type];
    if (!strategy) throw new Error(`no strategy ${this.spec.strategy.type}`);
    let version = status.currentVersion ?? '';
    let image = status.currentImage ?? '';
    if (!heal) {
      const repo = parseRepository(this.spec.imageRepo);
      const checked = await validateImage(
        this.deps,
        this.spec,
        this.deps.registries.for(repo.registry),
        repo,
        digest,
        facts.selected ?? [],
      );
      if (checked.outcome === 'wait') {
        await this.#write(cv, {}, [
          this.#condition(ConditionType.Progressing, 'False', checked.reason, checked.message),
        ]);
        throw new RetryLaterError(checked.message, checked.retryAfterMs);
      }
      if (checked.outcome === 'fail')
        return this.#refused(cv, digest, checked.version, checked.reason, checked.message);
      version = checked.version;
      image = checked.image;
    }
    const startedAt = iso(this.deps.now());
    const rollout: RolloutState = {
      id: `${digest}@${startedAt}`,
      strategy: this.spec.strategy.type,
      phase: strategy.firstPhase(this.spec, heal),
      step: 1,
      steps: strategy.steps(this.spec),
      digest,
      version,
      image,
      trigger: this.data.trigger.kind,
      ...(heal ? { heal: true } : {}),
      startedAt,
      message: heal
        ? `reverting drift: the workloads go back to ${version}${facts.resolved && facts.resolved.digest !== digest ? ` (the tag points at ${facts.resolved.digest}, which failed before)` : ''}`
        : `rolling out ${version}`,
    };
    const stored = await this.#write(
      cv,
      {
        rollout,
        // null removes the previous rollout's end time: the status is merge-patched.
        lastRollout: {
          version,
          digest,
          startedAt,
          finishedAt: null as unknown as undefined,
          result: 'Progressing',
          message: '',
        },
      },
      [this.#progressing(heal ? Reason.DriftCorrected : Reason.RolloutStarted, rollout.message)],
    );
    await this.deps.events.record(
      cvReference(cv),
      'Normal',
      heal ? Reason.DriftCorrected : Reason.RolloutStarted,
      heal ? rollout.message : `rolling out ${image}`,
    );
    this.log.info({ digest, version, heal }, 'rollout started');
    return { cv: stored };
  }

  /** A check refused the digest before anything was patched: remembered, never retried. */
  async #refused(
    cv: StoredContainerVersion,
    digest: string,
    version: string,
    reason: Reason,
    why: string,
  ): Promise<Step> {
    const message = `${version} (${digest}) was not rolled out: ${why}`;
    const now = iso(this.deps.now());
    await this.#write(
      cv,
      {
        failedDigests: [...new Set([...(cv.status?.failedDigests ?? []), digest])],
        lastRollout: {
          version,
          digest,
          startedAt: now,
          finishedAt: now,
          result: 'Failed',
          message,
        },
      },
      [
        this.#condition(ConditionType.Progressing, 'False', reason, message),
        this.#condition(ConditionType.Degraded, 'True', reason, message),
      ],
    );
    this.deps.observer?.finished('Failed', undefined);
    this.log.warn({ digest, reason, message }, 'image refused');
    return { outcome: 'Blocked' };
  }

  async #promote(cv: StoredContainerVersion, to: Partial<RolloutState>): Promise<Step> {
    const conditions =
      to.phase === 'Patching' ? [this.#progressing(Reason.RolloutStarted, to.message ?? '')] : [];
    if (to.phase === 'Recording' || to.phase === 'Patching')
      await this.#effects.removeVerifyJobs(cv, rolloutOf(cv));
    return this.#change(cv, { rollout: to }, conditions);
  }

  /** `record`: history first (idempotent by the rollout's id), then the status that ends the rollout. */
  async #record(cv: StoredContainerVersion): Promise<Step> {
    const rollout = rolloutOf(cv);
    const record = rolloutRecord(cv, this.spec, rollout, this.deps.now());
    if (record.history) await this.deps.history.add(cv, record.history, this.spec.history.limit);
    const stored = await this.#write(cv, record.fields, record.conditions);
    const result = rollout.result ?? 'Failed';
    if (result === 'Succeeded')
      for (const w of rollout.workloads ?? [])
        await this.deps.events.record(
          {
            apiVersion: w.kind === 'CronJob' ? 'batch/v1' : 'apps/v1',
            kind: w.kind,
            namespace: cv.metadata.namespace,
            name: w.name,
            uid: '',
          },
          'Normal',
          Reason.RolloutSucceeded,
          `${this.spec.container}=${rollout.image}`,
        );
    const seconds = (this.deps.now().getTime() - Date.parse(rollout.startedAt)) / 1000;
    this.deps.observer?.finished(result, seconds);
    this.#recorded = result;
    const fields = {
      image: rollout.image,
      result,
      durationSeconds: seconds,
      message: rollout.message,
    };
    if (result === 'Succeeded') this.log.info(fields, 'rollout succeeded');
    else this.log.warn(fields, 'rollout ended without success');
    return { cv: stored };
  }

  async #wait(
    cv: StoredContainerVersion,
    action: Extract<RolloutAction, { type: 'wait' }>,
  ): Promise<RunOutcome> {
    const rollout = rolloutOf(cv);
    const recovered = afterStepFailed(cv) ? [this.#progressing(action.reason, action.message)] : [];
    if (
      rollout.message !== action.message ||
      Object.keys(this.#pending).length > 0 ||
      recovered.length > 0
    )
      await this.#write(cv, { rollout: { ...rollout, message: action.message } }, recovered);
    const recheckMs = this.deps.recheckMs ?? 10_000;
    const delayMs = Math.max(0, Math.min(action.untilMs - this.deps.now().getTime(), recheckMs));
    throw new RetryLaterError(action.message, delayMs);
  }

  async #done(
    cv: StoredContainerVersion,
    action: Extract<RolloutAction, { type: 'done' }>,
  ): Promise<RunOutcome> {
    const stale = cv.status?.observedGeneration !== cv.metadata.generation;
    const conditions =
      afterStepFailed(cv) && !action.conditions.some((c) => c.type === ConditionType.Progressing)
        ? [
            ...action.conditions,
            this.#condition(
              ConditionType.Progressing,
              'False',
              Reason.Synced,
              'nothing to roll out',
            ),
          ]
        : action.conditions;
    if (conditions.length > 0 || Object.keys(this.#pending).length > 0 || stale)
      await this.#write(cv, {}, conditions);
    if (action.retry) throw new StillBlockedError(action.retry);
    return action.outcome === 'Unchanged' && this.#recorded ? this.#recorded : action.outcome;
  }

  async #change(
    cv: StoredContainerVersion,
    change: WorkloadsChange,
    conditions: ConditionUpdate[] = [],
  ): Promise<Step> {
    const stored = await this.#write(
      cv,
      { rollout: { ...rolloutOf(cv), ...change.rollout } },
      conditions,
    );
    return { cv: stored, ...(change.observed ? { observed: change.observed } : {}) };
  }

  /** A status write that carries this run's lastEvent the first time. */
  async #write(
    cv: StoredContainerVersion,
    fields: Partial<ContainerVersionStatus>,
    conditions: readonly ConditionUpdate[] = [],
  ): Promise<StoredContainerVersion> {
    const stored = await writeStatus(this.deps, cv, { ...this.#pending, ...fields }, conditions);
    this.#pending = {};
    return stored;
  }

  #condition(
    type: ConditionType,
    status: 'True' | 'False',
    reason: Reason,
    message: string,
  ): ConditionUpdate {
    return { type, status, reason, message, observedGeneration: this.generation };
  }

  #progressing(reason: Reason, message: string): ConditionUpdate {
    return this.#condition(ConditionType.Progressing, 'True', reason, message);
  }
}

/** The CV of a job whose read failed, as far as the job knows it (no status: nothing to merge into). */
function unread(data: RolloutJobData): StoredContainerVersion {
  return {
    apiVersion: 'cvm.dev/v1',
    kind: 'ContainerVersion',
    metadata: {
      namespace: data.namespace,
      name: data.name,
      uid: data.uid,
      generation: 0,
      resourceVersion: '',
    },
    spec: undefined,
  };
}

/** The CV still says a step failed: the next write that succeeds says what happens now. */
const afterStepFailed = (cv: StoredContainerVersion): boolean =>
  cv.status?.conditions?.some(
    (c) => c.type === ConditionType.Progressing && c.reason === Reason.StepFailed,
  ) ?? false;

function rolloutOf(cv: StoredContainerVersion): RolloutState {
  const rollout = cv.status?.rollout;
  if (!rollout)
    throw new Error(`${cv.metadata.namespace}/${cv.metadata.name} has no rollout in flight`);
  return rollout;
}
