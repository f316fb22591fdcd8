import type { ChainableCommander } from 'ioredis';
import type { Redis } from './connections.js';

/**
 * When each `repo:tag` last heard from its registry (a push event or a poll), until when a
 * registry host is backing off after a 429, which targets must be polled once more (a push whose
 * retries ran out), and the epoch marker that tells whether Redis lost its data: in Redis, so
 * every replica and a new leader see it. Keys: `<prefix>:poll:events`, `<prefix>:poll:polls`
 * (hashes, target → ms), `<prefix>:poll:backoff` (hash, registry host → ms),
 * `<prefix>:poll:recheck` (hash, target → ms it is due), `<prefix>:epoch` (string).
 */
export class RedisPollState {
  readonly #events: string;
  readonly #polls: string;
  readonly #backoff: string;
  readonly #recheck: string;
  readonly #epoch: string;

  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.#events = `${prefix}:poll:events`;
    this.#polls = `${prefix}:poll:polls`;
    this.#backoff = `${prefix}:poll:backoff`;
    this.#recheck = `${prefix}:poll:recheck`;
    this.#epoch = `${prefix}:epoch`;
  }

  /**
   * Sets the epoch marker unless it is there. `created` means Redis holds none of what cvm wrote
   * before (a restart without persistence, a flush, a new Redis): waiting jobs may be gone, and
   * the leader checks every CV against its registry (ADR 0008). `present` otherwise.
   */
  async markEpoch(atMs: number): Promise<'created' | 'present'> {
    const set = await this.redis.set(this.#epoch, String(atMs), 'NX');
    return set === 'OK' ? 'created' : 'present';
  }

  /**
   * The target is polled once more at `atMs` by the leader, push-only CVs included (a push event
   * whose retries ran out: a dead letter). An earlier due time already recorded is kept.
   */
  async recheckLater(target: string, atMs: number): Promise<void> {
    await this.redis.eval(
      `local due = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
       if due == 0 or due > tonumber(ARGV[2]) then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
       return 0`,
      1,
      this.#recheck,
      target,
      String(atMs),
    );
  }

  /** Every target to poll once more, with the time it is due. */
  async rechecks(): Promise<Map<string, number>> {
    const all = await this.redis.hgetall(this.#recheck);
    return new Map(Object.entries(all).map(([target, ms]) => [target, Number(ms)]));
  }

  /** The target's recheck is done (polled), or moved to `nextAtMs` (the poll failed again). */
  async recheckDone(target: string, nextAtMs?: number): Promise<void> {
    if (nextAtMs === undefined) await this.redis.hdel(this.#recheck, target);
    else await this.redis.hset(this.#recheck, target, String(nextAtMs));
  }

  /** A push event for the target arrived (route worker). */
  async recordEvent(target: string, atMs: number): Promise<void> {
    await this.redis.hset(this.#events, target, String(atMs));
  }

  /**
   * The same write as {@link recordEvent}, queued on `pipeline`: the receiver records its events
   * in the round trip that enqueues them (`PushEventQueue`). Its reply is not read.
   */
  recordEventIn(pipeline: ChainableCommander, target: string, atMs: number): void {
    pipeline.hset(this.#events, target, String(atMs));
  }

  /**
   * Claims the poll of a target: records `atMs` as its last poll unless another replica recorded a
   * poll at or after `notBeforeMs` in the meantime. True when this caller should poll.
   */
  async claimPoll(target: string, atMs: number, notBeforeMs: number): Promise<boolean> {
    const claimed = await this.redis.eval(
      `local last = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
       if last >= tonumber(ARGV[3]) then return 0 end
       redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
       return 1`,
      1,
      this.#polls,
      target,
      String(atMs),
      String(notBeforeMs),
    );
    return claimed === 1;
  }

  /** Last event and poll of each target, in one round trip per hash. */
  async read(
    targets: readonly string[],
  ): Promise<Map<string, { lastEventAtMs?: number; lastPollAtMs?: number }>> {
    const result = new Map<string, { lastEventAtMs?: number; lastPollAtMs?: number }>();
    if (targets.length === 0) return result;
    const [events, polls] = await Promise.all([
      this.redis.hmget(this.#events, ...targets),
      this.redis.hmget(this.#polls, ...targets),
    ]);
    targets.forEach((target, i) => {
      const event = events[i];
      const poll = polls[i];
      result.set(target, {
        ...(event ? { lastEventAtMs: Number(event) } : {}),
        ...(poll ? { lastPollAtMs: Number(poll) } : {}),
      });
    });
    return result;
  }

  /** A registry asked us to slow down: no replica polls it before `untilMs`. */
  async backOff(registry: string, untilMs: number): Promise<void> {
    await this.redis.hset(this.#backoff, registry, String(untilMs));
  }

  async backoffUntil(): Promise<Map<string, number>> {
    const all = await this.redis.hgetall(this.#backoff);
    return new Map(Object.entries(all).map(([host, ms]) => [host, Number(ms)]));
  }
}
