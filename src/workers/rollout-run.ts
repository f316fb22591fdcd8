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
import { handledRequest, rolloutRecord } from './rollout-record.js';
import type { RolloutRunnerDeps } from './rollout-runner.js';
import { startRollout, type StartContext } from './rollout-start.js';
import { RunStatus, afterStepFailed, transitionConditions } from './run-status.js';
import { cvReference } from './cv-status.js';
import { STRATEGIES } from './strategies/strategies.js';
import { TrafficEffects } from './traffic-effects.js';
import { TrafficSteps } from './traffic-steps.js';
import { blockedNotification, notify, rolloutNotification } from './rollout-notices.js';
import type { NotifyEvent } from '../notify/notification.js';

/** Triggers that bring news about the tag. */
const NEWS_TRIGGERS: ReadonlySet<string> = new Set(['push', 'scan', 'poll', 'sync']);

/** Which notification a recorded rollout sends; a superseded one sends none (the next one does). */
const RECORDED_EVENTS: Partial<Record<string, NotifyEvent>> = {
  Succeeded: 'succeeded',
  Failed: 'failed',
  RolledBack: 'rolled-back',
};

/**
 * Actions a step's status write may wait across, to go with the write they make anyway: they
 * read, or only write the status (the record's history entry is idempotent by the rollout's id).
 * Before any other action the write is made.
 */
const STAGED_ACROSS: ReadonlySet<RolloutAction['type']> = new Set([
  'observe',
  'wait',
  'done',
  'record',
]);

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
  readonly #traffic: TrafficEffects;
  readonly #steps: TrafficSteps;
  readonly #status: RunStatus;
  readonly #start: StartContext;
  #recorded: RunOutcome | undefined;
  /** Work started by an action that the run awaits before it ends (see StartContext.defer). */
  readonly #deferred: Promise<unknown>[] = [];

  constructor(
    private readonly deps: RolloutRunnerDeps,
    private readonly spec: ContainerVersionSpec,
    private readonly data: RolloutJobData,
    private readonly log: Logger,
    generation: number,
  ) {
    this.#effects = new WorkloadEffects({ ...deps, patched: () => deps.observer?.patched(data) });
    this.#traffic = new TrafficEffects({
      ...deps,
      patched: () => deps.observer?.patched(data),
    });
    this.#steps = new TrafficSteps({ ...deps, traffic: this.#traffic, spec, log });
    this.#status = new RunStatus(deps, generation, data);
    this.#start = {
      deps,
      spec,
      data,
      status: this.#status,
      log,
      defer: (work) => this.#deferred.push(work.catch(() => undefined)),
    };
  }

  async loop(start: StoredContainerVersion): Promise<RunOutcome> {
    try {
      return await this.#loop(start);
    } catch (error) {
      // A read or the record failed after a step: its write still goes in (best effort).
      await this.#status.flush().catch(() => undefined);
      throw error;
    } finally {
      await Promise.all(this.#deferred);
    }
  }

  async #loop(start: StoredContainerVersion): Promise<RunOutcome> {
    // Brought by a push, a poll or a sync (not a watch event or a recheck): the tag may have moved.
    let news = this.data.trigger.kind !== 'resume' ? { news: true } : {};
    let facts: RolloutFacts = { cv: start, spec: this.spec, now: this.deps.now(), ...news };
    for (let i = 0; i < ACTIONS_PER_RUN; i++) {
      const action = decideRollout(facts);
      // A step's write waits for the run's next one only while the run reads or writes the status.
      if (!STAGED_ACROSS.has(action.type)) {
        const stored = await this.#status.flush();
        if (stored) facts = { ...facts, cv: stored };
      }
      this.log.debug(
        { action: action.type, phase: facts.cv.status?.rollout?.phase },
        'rollout action',
      );
      if (action.type === 'resolve') {
        facts = { ...facts, ...(await this.#resolve(start.metadata.namespace, facts.cv)) };
        continue;
      }
      if (action.type === 'observe') {
        facts = { ...facts, ...(await this.#observe(facts.cv)) };
        continue;
      }
      if (action.type === 'wait') return this.#wait(facts.cv, action);
      if (action.type === 'done') return this.#done(facts.cv, action);
      const step = await this.#act(facts, action);
      if ('outcome' in step) return step.outcome;
      // A person asked for a sync: the tag is news, as after a push.
      if (action.type === 'request' && action.action === 'sync') news = { news: true };
      if (action.type === 'record' && !(await this.#tagMovedOn(facts.cv)))
        return this.#recorded ?? 'Unchanged';
      facts = {
        cv: step.cv,
        spec: this.spec,
        now: this.deps.now(),
        ...news,
        ...(action.type === 'record' ? {} : { resolved: facts.resolved }),
        ...(step.observed ? { observed: step.observed } : {}),
      };
    }
    await this.#status.flush();
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

  async #resolve(namespace: string, cv: StoredContainerVersion): Promise<Partial<RolloutFacts>> {
    const keys = STRATEGIES[this.spec.strategy.type]?.services?.(this.spec, namespace) ?? [];
    const [resolved, services] = await Promise.all([
      this.#effects.resolve(this.spec, namespace, cv.status),
      keys.length > 0 ? this.#traffic.services(keys) : undefined,
    ]);
    return { ...resolved, ...(services ? { services } : {}) };
  }

  /** What the rollout waits on: verify Jobs, or its workloads (with a canary's Pods). */
  async #observe(cv: StoredContainerVersion): Promise<Partial<RolloutFacts>> {
    const rollout = rolloutOf(cv);
    const read = await this.#effects.observe(cv, rollout);
    if (rollout.phase === 'Verifying' || !read.observed || !rollout.canary) return read;
    return { ...read, pods: await this.#traffic.pods(rollout.workloads ?? [], read.observed) };
  }

  async #apply(
    cv: StoredContainerVersion,
    action: Extract<RolloutAction, { type: 'apply' }>,
  ): Promise<Step> {
    const rollout = rolloutOf(cv);
    const change = await this.#steps.apply(cv, rollout, action);
    return this.#change(cv, change, transitionConditions(this.#status, rollout, action.then));
  }

  async #route(
    cv: StoredContainerVersion,
    action: Extract<RolloutAction, { type: 'route' }>,
  ): Promise<Step> {
    const rollout = rolloutOf(cv);
    const change = await this.#steps.route(cv, rollout, action);
    return this.#change(cv, change, transitionConditions(this.#status, rollout, action.then));
  }

  async #measure(cv: StoredContainerVersion, names: readonly string[]): Promise<Step> {
    return this.#change(cv, await this.#steps.measure(rolloutOf(cv), names));
  }

  async #act(facts: RolloutFacts, action: RolloutAction): Promise<Step> {
    const { cv } = facts;
    switch (action.type) {
      case 'validate':
        return startRollout(this.#start, facts, action.digest, action.heal, action.rollback);
      case 'verify':
        return this.#change(
          cv,
          await this.#effects.verify(
            cv,
            this.spec,
            rolloutOf(cv),
            action.checks,
            await this.#steps.serviceUrls(cv),
          ),
        );
      case 'patch':
        return this.#patch(facts);
      case 'promote':
        return this.#promote(cv, action.to);
      case 'rollback':
        return this.#rollback(cv, action, facts.observed);
      case 'record':
        return this.#record(cv);
      case 'apply':
        return this.#apply(cv, action);
      case 'route':
        return this.#route(cv, action);
      case 'measure':
        return this.#measure(cv, action.metrics);
      case 'request':
        return this.#request(cv, action);
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
    const rollout = rolloutOf(cv);
    const change = await this.#effects.rollback(cv, this.spec, rollout, action.message, seen);
    const message = `${action.message}; rolling back`;
    // Before the write that moves the rollout on: a step run again queues it again (deduplicated).
    await notify(
      this.deps.notifier,
      this.spec,
      rolloutNotification(cv, rollout, 'failed', {
        reason: action.reason,
        message,
        now: this.deps.now(),
      }),
    );
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
    const rollout = rolloutOf(cv);
    const conditions = transitionConditions(this.#status, rollout, to);
    if (to.phase === 'Patching' && rollout.strategy === 'Rolling')
      await this.#effects.removeVerifyJobs(cv, rollout);
    await this.#steps.transitionEvents(cv, rollout, to);
    return this.#change(cv, { rollout: to }, conditions);
  }

  /** `request`: what a person asked for, recorded as handled in the same write as its effect. */
  async #request(
    cv: StoredContainerVersion,
    action: Extract<RolloutAction, { type: 'request' }>,
  ): Promise<Step> {
    const status = cv.status ?? {};
    const rollout = status.rollout;
    const lastRequest = handledRequest(action, action.result, action.message, this.deps.now());
    const fields = {
      lastRequest,
      ...(action.to && rollout ? { rollout: { ...rollout, ...action.to } } : {}),
      ...(action.forget
        ? { failedDigests: (status.failedDigests ?? []).filter((d) => d !== action.forget) }
        : {}),
    };
    const reason =
      action.result === 'Refused'
        ? Reason.RequestRefused
        : action.action === 'abort'
          ? Reason.RolloutAborted
          : action.action === 'retry'
            ? Reason.RolloutRetried
            : action.action === 'sync'
              ? Reason.SyncRequested
              : Reason.RolloutPromoted;
    const conditions =
      rollout && action.to ? transitionConditions(this.#status, rollout, action.to) : [];
    const stored = await this.#status.write(cv, fields, conditions);
    await this.deps.events.record(
      cvReference(cv),
      action.result === 'Refused' ? 'Warning' : 'Normal',
      reason,
      `${action.action}: ${action.message}`,
    );
    this.deps.observer?.requested?.(action.action, action.result);
    this.log.info({ request: action.value, result: action.result }, action.message);
    return { cv: stored };
  }

  /** `record`: verify Jobs removed, history (idempotent by the rollout's id), then the status that ends the rollout. */
  async #record(cv: StoredContainerVersion): Promise<Step> {
    const rollout = rolloutOf(cv);
    // However the rollout got here (a promote, a scale-down, a switch back), its Jobs go.
    await this.#effects.removeVerifyJobs(cv, rollout);
    const record = rolloutRecord(cv, this.spec, rollout, this.deps.now());
    if (record.history) await this.deps.history.add(cv, record.history, this.spec.history.limit);
    const result = rollout.result ?? 'Failed';
    const event = RECORDED_EVENTS[result];
    // Before the status write that ends the rollout: recording again after a crash queues the
    // same notification (deduplicated by the rollout's id), so none is lost and none doubled.
    if (event)
      await notify(
        this.deps.notifier,
        this.spec,
        rolloutNotification(cv, rollout, event, {
          reason:
            rollout.reason ??
            (result === 'Succeeded' ? Reason.RolloutSucceeded : Reason.RolloutFailed),
          message: rollout.message,
          now: this.deps.now(),
          previousImage: record.history?.previousImage,
        }),
      );
    const stored = await this.#status.write(cv, record.fields, record.conditions);
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
    const update = action.update ?? {};
    const changed =
      rollout.message !== action.message ||
      Object.entries(update).some(
        ([k, v]) => JSON.stringify(rollout[k as keyof RolloutState]) !== JSON.stringify(v),
      );
    if (changed || this.#status.pending || recovered.length > 0)
      await this.#status.write(
        cv,
        { rollout: { ...rollout, ...update, message: action.message } },
        recovered,
      );
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
    // Told when news about the tag (a push, a poll, a sync) brought it back to a failed digest;
    // not on every watch event or recheck of a CV that stays held.
    if (action.knownBad && NEWS_TRIGGERS.has(this.data.trigger.kind))
      await this.#notifyKnownBad(cv, action.knownBad, action.conditions);
    if (conditions.length > 0 || this.#status.pending || stale)
      await this.#status.write(cv, {}, conditions);
    if (action.retry) throw new StillBlockedError(action.retry);
    return action.outcome === 'Unchanged' && this.#recorded ? this.#recorded : action.outcome;
  }

  /** The tag points at a digest that failed before: blocked (deduplicated per CV and digest). */
  async #notifyKnownBad(
    cv: StoredContainerVersion,
    digest: string,
    conditions: readonly ConditionUpdate[],
  ): Promise<void> {
    const last = cv.status?.lastRollout;
    await notify(
      this.deps.notifier,
      this.spec,
      blockedNotification(cv, {
        digest,
        version: last?.digest === digest ? last.version : digest.slice(0, 19),
        reason: Reason.KnownBadDigest,
        message: conditions[0]?.message ?? `${digest} failed before`,
        now: this.deps.now(),
      }),
    );
  }

  #change(
    cv: StoredContainerVersion,
    change: WorkloadsChange,
    conditions: ConditionUpdate[] = [],
  ): Step {
    const before = rolloutOf(cv);
    // Written with the run's next write (the wait, the record), or before its next effect.
    const stored = this.#status.stage(
      cv,
      { rollout: { ...before, ...change.rollout } },
      conditions,
    );
    const phase = change.rollout.phase;
    if (phase && phase !== before.phase) this.deps.observer?.step?.(before.strategy, phase);
    return { cv: stored, ...(change.observed ? { observed: change.observed } : {}) };
  }
}

function rolloutOf(cv: StoredContainerVersion): RolloutState {
  const rollout = cv.status?.rollout;
  if (!rollout)
    throw new Error(`${cv.metadata.namespace}/${cv.metadata.name} has no rollout in flight`);
  return rollout;
}
