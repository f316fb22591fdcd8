import type { ContainerVersionSpec, RolloutState } from '../api/container-version.js';
import { ConditionType, Reason, type ConditionUpdate } from '../api/conditions.js';
import type { Logger } from '../observability/logger.js';
import { RetryLaterError } from '../queue/job-errors.js';
import type { RolloutJobData } from '../queue/rollout-queue.js';
import type { StoredContainerVersion } from './ports.js';
import { decideRollout } from './rollout-decision.js';
import { WorkloadEffects, type WorkloadsChange } from './rollout-effects.js';
import {
  workloadReference,
  type RolloutAction,
  type RolloutFacts,
  type RunOutcome,
} from './rollout-facts.js';
import { rolloutRecord } from './rollout-record.js';
import type { RolloutRunnerDeps } from './rollout-runner.js';
import { startRollout, type StartContext } from './rollout-start.js';
import { RunStatus, afterStepFailed } from './run-status.js';

/** Actions one job run carries out at most before it hands the rollout to a fresh job. */
const ACTIONS_PER_RUN = 32;

type Step =
  { cv: StoredContainerVersion; observed?: RolloutFacts['observed'] } | { outcome: RunOutcome };

/** A blocked CV whose job should be retried with backoff (a tag the registry does not show yet). */
export class StillBlockedError extends Error {
  override readonly name = 'StillBlockedError';
}

/**
 * One job run: decide, act, persist, decide again, until the rollout waits (a
 * {@link RetryLaterError}: the job is delayed) or nothing is left to do. After a rollout is
 * recorded the run looks at the tag again, so a push absorbed meanwhile starts the next one.
 */
export class RolloutRun {
  readonly #effects: WorkloadEffects;
  readonly #status: RunStatus;
  readonly #start: StartContext;
  #recorded: RunOutcome | undefined;

  constructor(
    private readonly deps: RolloutRunnerDeps,
    private readonly spec: ContainerVersionSpec,
    data: RolloutJobData,
    private readonly log: Logger,
    generation: number,
  ) {
    this.#effects = new WorkloadEffects({ ...deps, patched: () => deps.observer?.patched(data) });
    this.#status = new RunStatus(deps, generation, data);
    this.#start = { deps, spec, data, status: this.#status, log };
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
      if (action.type === 'record' && !(await this.#tagMovedOn(facts.cv)))
        return this.#recorded ?? 'Unchanged';
      facts = {
        cv: step.cv,
        spec: this.spec,
        now: this.deps.now(),
        ...(action.type === 'record' ? {} : { resolved: facts.resolved }),
        ...(step.observed ? { observed: step.observed } : {}),
      };
    }
    throw new RetryLaterError('the run used its actions; a fresh run continues', 0);
  }

  /**
   * After a rollout is recorded: whether the tag points elsewhere now (a push that came while it
   * was in flight). One registry HEAD, whatever brought this job; the job's data is no witness,
   * since a push deduplicated into a job already queued leaves it unchanged.
   */
  async #tagMovedOn(cv: StoredContainerVersion): Promise<boolean> {
    const digest = await this.#effects.tagDigest(this.spec);
    return digest !== cv.status?.rollout?.digest;
  }

  async #act(facts: RolloutFacts, action: RolloutAction): Promise<Step> {
    const { cv } = facts;
    switch (action.type) {
      case 'validate':
        return startRollout(this.#start, facts, action.digest, action.heal);
      case 'verify':
        return this.#change(
          cv,
          await this.#effects.verify(cv, this.spec, rolloutOf(cv), action.checks),
        );
      case 'patch':
        return this.#patch(facts);
      case 'promote':
        return this.#promote(cv, action.to);
      case 'rollback':
        return this.#rollback(cv, action, facts.observed);
      case 'record':
        return this.#record(cv);
      default:
        throw new Error(`the run cannot carry out ${action.type} here`);
    }
  }

  async #patch(facts: RolloutFacts): Promise<Step> {
    const { cv } = facts;
    const rollout = rolloutOf(cv);
    const change = await this.#effects.patch(cv, this.spec, rollout, facts.selected);
    if ((change.rollout.workloads ?? []).length === 0)
      return this.#promote(cv, {
        phase: 'Recording',
        result: 'Failed',
        reason: Reason.ContainerNotFound,
        message: `no selected workload has a container named ${this.spec.container}`,
      });
    return this.#change(cv, { ...change, rollout: { ...change.rollout, phase: 'Waiting' } }, [
      this.#status.progressing(Reason.WaitingForRollout, `rolling out ${rollout.version}`),
    ]);
  }

  async #rollback(
    cv: StoredContainerVersion,
    action: Extract<RolloutAction, { type: 'rollback' }>,
    seen: RolloutFacts['observed'],
  ): Promise<Step> {
    const change = await this.#effects.rollback(cv, this.spec, rolloutOf(cv), action.message, seen);
    const message = `${action.message}; rolling back`;
    return this.#change(
      cv,
      {
        ...change,
        rollout: {
          ...change.rollout,
          phase: 'RollingBack',
          reason: action.reason,
          failure: action.message,
          message,
        },
      },
      [
        this.#status.progressing(Reason.RollingBack, message),
        this.#status.condition(
          ConditionType.Degraded,
          'True',
          Reason.RolloutFailed,
          action.message,
        ),
      ],
    );
  }

  async #promote(cv: StoredContainerVersion, to: Partial<RolloutState>): Promise<Step> {
    const conditions =
      to.phase === 'Patching'
        ? [this.#status.progressing(Reason.RolloutStarted, to.message ?? '')]
        : [];
    if (to.phase === 'Recording' || to.phase === 'Patching')
      await this.#effects.removeVerifyJobs(cv, rolloutOf(cv));
    return this.#change(cv, { rollout: to }, conditions);
  }

  /** `record`: history first (idempotent by the rollout's id), then the status that ends the rollout. */
  async #record(cv: StoredContainerVersion): Promise<Step> {
    const rollout = rolloutOf(cv);
    const record = rolloutRecord(cv, this.spec, rollout, this.deps.now());
    if (record.history) await this.deps.history.add(cv, record.history, this.spec.history.limit);
    const stored = await this.#status.write(cv, record.fields, record.conditions);
    const result = rollout.result ?? 'Failed';
    if (result === 'Succeeded')
      for (const w of rollout.workloads ?? [])
        await this.deps.events.record(
          workloadReference({ ...w, namespace: cv.metadata.namespace, uid: w.uid ?? '' }),
          'Normal',
          Reason.RolloutSucceeded,
          `${this.spec.container}=${rollout.image}`,
        );
    const durationSeconds = (this.deps.now().getTime() - Date.parse(rollout.startedAt)) / 1000;
    this.deps.observer?.finished(result, durationSeconds);
    this.#recorded = result;
    const fields = { image: rollout.image, result, durationSeconds, message: rollout.message };
    if (result === 'Succeeded') this.log.info(fields, 'rollout succeeded');
    else this.log.warn(fields, 'rollout ended without success');
    return { cv: stored };
  }

  /** Ends the run until something changes: the queue holds the job delayed until the recheck time. */
  async #wait(
    cv: StoredContainerVersion,
    action: Extract<RolloutAction, { type: 'wait' }>,
  ): Promise<RunOutcome> {
    const rollout = rolloutOf(cv);
    const recovered = afterStepFailed(cv)
      ? [this.#status.progressing(action.reason, action.message)]
      : [];
    if (rollout.message !== action.message || this.#status.pending || recovered.length > 0)
      await this.#status.write(cv, { rollout: { ...rollout, message: action.message } }, recovered);
    const recheckMs = this.deps.recheckMs ?? 10_000;
    const delayMs = Math.max(0, Math.min(action.untilMs - this.deps.now().getTime(), recheckMs));
    throw new RetryLaterError(action.message, delayMs);
  }

  async #done(
    cv: StoredContainerVersion,
    action: Extract<RolloutAction, { type: 'done' }>,
  ): Promise<RunOutcome> {
    const stale = cv.status?.observedGeneration !== cv.metadata.generation;
    const settles =
      afterStepFailed(cv) && !action.conditions.some((c) => c.type === ConditionType.Progressing);
    const conditions: ConditionUpdate[] = settles
      ? [
          ...action.conditions,
          this.#status.condition(
            ConditionType.Progressing,
            'False',
            Reason.Synced,
            'nothing to roll out',
          ),
        ]
      : action.conditions;
    if (conditions.length > 0 || this.#status.pending || stale)
      await this.#status.write(cv, {}, conditions);
    if (action.retry) throw new StillBlockedError(action.retry);
    return action.outcome === 'Unchanged' && this.#recorded ? this.#recorded : action.outcome;
  }

  async #change(
    cv: StoredContainerVersion,
    change: WorkloadsChange,
    conditions: ConditionUpdate[] = [],
  ): Promise<Step> {
    const stored = await this.#status.write(
      cv,
      { rollout: { ...rolloutOf(cv), ...change.rollout } },
      conditions,
    );
    return { cv: stored, ...(change.observed ? { observed: change.observed } : {}) };
  }
}

function rolloutOf(cv: StoredContainerVersion): RolloutState {
  const rollout = cv.status?.rollout;
  if (!rollout)
    throw new Error(`${cv.metadata.namespace}/${cv.metadata.name} has no rollout in flight`);
  return rollout;
}
