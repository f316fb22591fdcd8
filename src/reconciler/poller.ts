import type { Runnable } from '../lifecycle/runnable.js';
import type { Logger } from '../observability/logger.js';
import { OutageLog } from '../observability/outage-log.js';
import type { RolloutSink } from '../queue/rollout-queue.js';
import { RateLimitedError, type RegistryClient } from '../registry/registry-client.js';
import {
  cvsBehind,
  pollDecision,
  pollTargets,
  type PollableCv,
  type PollTarget,
} from './poll-decision.js';

/** The poll bookkeeping every replica shares (`RedisPollState`). */
export interface PollStateStore {
  read(
    targets: readonly string[],
  ): Promise<Map<string, { lastEventAtMs?: number; lastPollAtMs?: number }>>;
  claimPoll(target: string, atMs: number, notBeforeMs: number): Promise<boolean>;
  backOff(registry: string, untilMs: number): Promise<void>;
  backoffUntil(): Promise<Map<string, number>>;
  markEpoch(atMs: number): Promise<'created' | 'present'>;
  rechecks(): Promise<Map<string, number>>;
  recheckDone(target: string, nextAtMs?: number): Promise<void>;
}

type PollOutcome = 'unchanged' | 'changed' | 'missing' | 'rate-limited' | 'error';

/** A target to poll in this tick; `forcedSinceMs` when the poll is owed (sweep or recheck). */
interface DuePoll {
  target: PollTarget;
  dueAtMs: number;
  forcedSinceMs: number | undefined;
}

export interface PollerDeps {
  /** The CVs now (from the informer), already in poller form. */
  cvs: () => PollableCv[];
  state: PollStateStore;
  registries: { for(registryHost: string): RegistryClient };
  rollouts: RolloutSink;
  logger: Logger;
  tickMs: number;
  maxPollsPerTick: number;
  /**
   * How long after a recovery poll or a recheck failed (the registry still down) it is tried
   * again. Default 60 000 ms.
   */
  recheckDelayMs?: number;
  now?: () => number;
  /** Stable jitter per target in [0, 1); default a hash of the target key. */
  jitter?: (key: string) => number;
  onPoll?: (target: PollTarget, outcome: PollOutcome) => void;
}

const hashJitter = (key: string) => {
  let h = 2166136261;
  for (let i = 0; i < key.length; i += 1) h = Math.imul(h ^ key.charCodeAt(i), 16777619);
  return (h >>> 0) / 2 ** 32;
};

/**
 * The fallback poll (DESIGN §5), and the recovery check (ADR 0008). Each tick it groups CVs by
 * `repo:tag`, reads when each target last heard from its registry (one Redis round trip for all),
 * and polls only the due ones: one HEAD per target however many CVs follow it, at most
 * `maxPollsPerTick` per tick, none for a registry backing off after a 429 (shared through Redis).
 * A poll that finds a digest some CV does not run yet enqueues the same rollout a push would.
 *
 * Forced polls, push-only CVs included, come first in the same budget: a sweep of every target
 * when this leader starts and whenever the epoch marker is missing (Redis lost its data, and with
 * it waiting jobs), and the rechecks the workers record for a push whose retries ran out. A forced
 * poll that fails becomes a recheck `recheckDelayMs` later, so no outage ends with a CV silently
 * behind its tag.
 */
export class Poller implements Runnable {
  readonly name = 'poller';
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;
  /** Why the next tick sweeps every target, if it does. */
  #sweepReason: string | undefined;
  /** The targets a sweep has yet to poll, and when the sweep began. */
  #sweep: { sinceMs: number; keys: Set<string> } | undefined;
  /** The targets of the last `cvs()` seen (recomputed only when that array changes). */
  #targets: { from: readonly PollableCv[]; targets: PollTarget[] } | undefined;
  /** When this poller first saw each target: a target never polled nor pushed counts from then. */
  readonly #firstSeenMs = new Map<string, number>();
  /**
   * Targets known not to be due before `atMs` (at the interval they had then): their poll state
   * is not read again until then. Push events and polls only move a due time later.
   */
  readonly #notDueUntil = new Map<string, { atMs: number; intervalSeconds: number }>();

  constructor(private readonly deps: PollerDeps) {}

  start(): Promise<void> {
    this.#stopped = false;
    this.#sweepReason = 'leader started';
    // A tick fails every tickMs while Redis is down: one line when it starts, one when it ends.
    const failures = new OutageLog(this.deps.logger, {
      failed: 'poll tick failed',
      recovered: 'poll ticks work again',
    });
    this.#timer = setInterval(() => {
      this.#running ??= this.tick()
        .then(() => failures.recovered())
        .catch((error: unknown) => failures.failed(error))
        .finally(() => (this.#running = undefined));
    }, this.deps.tickMs);
    return Promise.resolve();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    await this.#running;
  }

  /** One pass; returns the targets polled. Exposed for tests. */
  async tick(): Promise<PollTarget[]> {
    const now = (this.deps.now ?? Date.now)();
    if ((await this.deps.state.markEpoch(now)) === 'created')
      this.#sweepReason ??= 'redis lost its data (the epoch marker was missing)';
    const targets = this.#currentTargets(now);
    if (this.#sweepReason !== undefined) {
      // A CV not synced yet gets its sync job from the CV controller, one with a rollout in
      // flight has its job: both resolve the tag.
      const owed = targets.filter((t) => t.cvs.some((cv) => cv.settled !== false));
      this.#sweep = { sinceMs: now, keys: new Set(owed.map((t) => t.key)) };
      this.deps.logger.info(
        { reason: this.#sweepReason, targets: owed.length },
        'checking every ContainerVersion against its registry',
      );
      this.#sweepReason = undefined;
    }
    if (targets.length === 0) return [];
    const polling = targets.filter((t) => {
      if (t.intervalSeconds <= 0) return false;
      const known = this.#notDueUntil.get(t.key);
      return !known || known.intervalSeconds !== t.intervalSeconds || known.atMs <= now;
    });
    const [states, backoff, rechecks] = await Promise.all([
      polling.length > 0
        ? this.deps.state.read(polling.map((t) => t.key))
        : Promise.resolve(new Map<string, { lastEventAtMs?: number; lastPollAtMs?: number }>()),
      this.deps.state.backoffUntil(),
      this.deps.state.rechecks(),
    ]);
    const jitter = this.deps.jitter ?? hashJitter;
    const read = new Set(polling.map((t) => t.key));
    const due = targets
      .flatMap((target): DuePoll[] => {
        const backoffUntilMs = backoff.get(target.registry) ?? 0;
        const forcedSinceMs = this.#forcedSince(target.key, rechecks, now);
        if (forcedSinceMs !== undefined)
          return backoffUntilMs > now ? [] : [{ target, dueAtMs: forcedSinceMs, forcedSinceMs }];
        if (target.intervalSeconds <= 0) return [];
        if (!read.has(target.key)) return []; // not due yet (#notDueUntil)
        const state = states.get(target.key) ?? {};
        const decision = pollDecision(
          target,
          state.lastEventAtMs === undefined && state.lastPollAtMs === undefined
            ? { lastPollAtMs: this.#firstSeenMs.get(target.key) ?? now }
            : state,
          now,
          { jitter: jitter(target.key), backoffUntilMs },
        );
        if (!decision.due)
          this.#notDueUntil.set(target.key, {
            atMs: decision.dueAtMs,
            intervalSeconds: target.intervalSeconds,
          });
        return decision.due ? [{ target, dueAtMs: decision.dueAtMs, forcedSinceMs }] : [];
      })
      .sort((a, b) => a.dueAtMs - b.dueAtMs)
      .slice(0, this.deps.maxPollsPerTick);
    const polled: PollTarget[] = [];
    for (const { target, forcedSinceMs } of due) {
      if (this.#stopped) break;
      // The claim fails when another replica (a former leader) polled it within the interval, or,
      // for a forced poll, since it was asked for.
      const notBeforeMs = forcedSinceMs ?? now - target.intervalSeconds * 1000 + 1;
      if (!(await this.deps.state.claimPoll(target.key, now, notBeforeMs))) {
        if (forcedSinceMs !== undefined) await this.#forcedDone(target.key, rechecks, 'polled');
        continue;
      }
      polled.push(target);
      this.#notDueUntil.set(target.key, {
        atMs: now + target.intervalSeconds * 1000,
        intervalSeconds: target.intervalSeconds,
      });
      const outcome = await this.#poll(target, now);
      if (forcedSinceMs !== undefined)
        await this.#forcedDone(
          target.key,
          rechecks,
          outcome === 'error' || outcome === 'rate-limited'
            ? now + (this.deps.recheckDelayMs ?? 60_000)
            : 'polled',
        );
    }
    if (this.#sweep?.keys.size === 0) this.#sweep = undefined;
    return polled;
  }

  /** The targets of the CVs now; recomputed (and the per-target memory pruned) only after a change. */
  #currentTargets(now: number): PollTarget[] {
    const cvs = this.deps.cvs();
    if (this.#targets?.from === cvs) return this.#targets.targets;
    const targets = pollTargets(cvs, { includePushOnly: true });
    this.#targets = { from: cvs, targets };
    const keys = new Set(targets.map((t) => t.key));
    for (const key of keys) if (!this.#firstSeenMs.has(key)) this.#firstSeenMs.set(key, now);
    for (const key of this.#firstSeenMs.keys()) if (!keys.has(key)) this.#firstSeenMs.delete(key);
    for (const key of this.#notDueUntil.keys()) if (!keys.has(key)) this.#notDueUntil.delete(key);
    return targets;
  }

  /** Since when a poll of the target is owed (sweep or recheck), if one is owed now. */
  #forcedSince(key: string, rechecks: Map<string, number>, now: number): number | undefined {
    const recheckAtMs = rechecks.get(key);
    if (this.#sweep?.keys.has(key)) return Math.min(this.#sweep.sinceMs, recheckAtMs ?? Infinity);
    return recheckAtMs !== undefined && recheckAtMs <= now ? recheckAtMs : undefined;
  }

  /** A forced poll happened (`polled`), or failed and is owed again at the given time. */
  async #forcedDone(
    key: string,
    rechecks: Map<string, number>,
    next: 'polled' | number,
  ): Promise<void> {
    this.#sweep?.keys.delete(key);
    if (next !== 'polled') await this.deps.state.recheckDone(key, next);
    else if (rechecks.has(key)) await this.deps.state.recheckDone(key);
  }

  async #poll(target: PollTarget, now: number): Promise<PollOutcome> {
    const log = this.deps.logger.child({ target: target.key });
    try {
      const resolved = await this.deps.registries
        .for(target.registry)
        .resolveTag(target, target.tag);
      if (!resolved) {
        this.deps.onPoll?.(target, 'missing');
        log.info('polled tag does not exist');
        return 'missing';
      }
      const behind = cvsBehind(target, resolved.digest);
      const outcome = behind.length > 0 ? 'changed' : 'unchanged';
      this.deps.onPoll?.(target, outcome);
      for (const cv of behind) {
        await this.deps.rollouts.enqueue({
          namespace: cv.namespace,
          name: cv.name,
          uid: cv.uid,
          trigger: {
            kind: 'poll',
            source: 'poll',
            digest: resolved.digest,
            receivedAt: new Date(now).toISOString(),
          },
        });
      }
      if (behind.length > 0)
        log.info({ digest: resolved.digest, rollouts: behind.length }, 'poll found a new digest');
      return outcome;
    } catch (error) {
      if (error instanceof RateLimitedError) {
        this.deps.onPoll?.(target, 'rate-limited');
        await this.deps.state.backOff(target.registry, now + error.retryAfterMs);
        log.warn(
          { registry: target.registry, retryAfterMs: error.retryAfterMs },
          'registry rate-limited polling; backing off',
        );
        return 'rate-limited';
      }
      this.deps.onPoll?.(target, 'error');
      log.warn({ err: { message: (error as Error).message } }, 'poll failed');
      return 'error';
    }
  }
}
