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
  now?: () => number;
  /** Stable jitter per target in [0, 1); default a hash of the target key. */
  jitter?: (key: string) => number;
  onPoll?: (
    target: PollTarget,
    outcome: 'unchanged' | 'changed' | 'missing' | 'rate-limited' | 'error',
  ) => void;
}

const hashJitter = (key: string) => {
  let h = 2166136261;
  for (let i = 0; i < key.length; i += 1) h = Math.imul(h ^ key.charCodeAt(i), 16777619);
  return (h >>> 0) / 2 ** 32;
};

/**
 * The fallback poll (DESIGN §5). Each tick it groups CVs by `repo:tag`, reads when each target last
 * heard from its registry (one Redis round trip for all), and polls only the due ones: one HEAD per
 * target however many CVs follow it, at most `maxPollsPerTick` per tick, none for a registry backing
 * off after a 429 (shared through Redis). A poll that finds a digest some CV does not run yet
 * enqueues the same rollout a push would.
 */
export class Poller implements Runnable {
  readonly name = 'poller';
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;

  constructor(private readonly deps: PollerDeps) {}

  start(): Promise<void> {
    this.#stopped = false;
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
    const targets = pollTargets(this.deps.cvs());
    if (targets.length === 0) return [];
    const [states, backoff] = await Promise.all([
      this.deps.state.read(targets.map((t) => t.key)),
      this.deps.state.backoffUntil(),
    ]);
    const jitter = this.deps.jitter ?? hashJitter;
    const due = targets
      .map((target) => ({
        target,
        decision: pollDecision(target, states.get(target.key) ?? {}, now, {
          jitter: jitter(target.key),
          backoffUntilMs: backoff.get(target.registry) ?? 0,
        }),
      }))
      .filter((d) => d.decision.due)
      .sort((a, b) => a.decision.dueAtMs - b.decision.dueAtMs)
      .slice(0, this.deps.maxPollsPerTick);
    const polled: PollTarget[] = [];
    for (const { target } of due) {
      if (this.#stopped) break;
      // The claim fails when another replica (a former leader) polled it within the interval.
      if (
        !(await this.deps.state.claimPoll(target.key, now, now - target.intervalSeconds * 1000 + 1))
      )
        continue;
      polled.push(target);
      await this.#poll(target, now);
    }
    return polled;
  }

  async #poll(target: PollTarget, now: number): Promise<void> {
    const log = this.deps.logger.child({ target: target.key });
    try {
      const resolved = await this.deps.registries
        .for(target.registry)
        .resolveTag(target, target.tag);
      if (!resolved) {
        this.deps.onPoll?.(target, 'missing');
        log.info('polled tag does not exist');
        return;
      }
      const behind = cvsBehind(target, resolved.digest);
      this.deps.onPoll?.(target, behind.length > 0 ? 'changed' : 'unchanged');
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
    } catch (error) {
      if (error instanceof RateLimitedError) {
        this.deps.onPoll?.(target, 'rate-limited');
        await this.deps.state.backOff(target.registry, now + error.retryAfterMs);
        log.warn(
          { registry: target.registry, retryAfterMs: error.retryAfterMs },
          'registry rate-limited polling; backing off',
        );
        return;
      }
      this.deps.onPoll?.(target, 'error');
      log.warn({ err: { message: (error as Error).message } }, 'poll failed');
    }
  }
}
