import type { Redis } from './connections.js';

/**
 * When each `repo:tag` last heard from its registry (a push event or a poll), and until when a
 * registry host is backing off after a 429: in Redis, so every replica and a new leader see it.
 * Keys: `<prefix>:poll:events`, `<prefix>:poll:polls` (hashes, target → ms), `<prefix>:poll:backoff`
 * (hash, registry host → ms).
 */
export class RedisPollState {
  readonly #events: string;
  readonly #polls: string;
  readonly #backoff: string;

  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.#events = `${prefix}:poll:events`;
    this.#polls = `${prefix}:poll:polls`;
    this.#backoff = `${prefix}:poll:backoff`;
  }

  /** A push event for the target arrived (route worker). */
  async recordEvent(target: string, atMs: number): Promise<void> {
    await this.redis.hset(this.#events, target, String(atMs));
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
