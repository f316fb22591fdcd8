import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PushEvent } from '../../src/events/push-event.js';
import { NORMALIZERS } from '../../src/events/sources/index.js';
import {
  closeConnection,
  createProducerConnection,
  waitForReady,
  type Redis,
} from '../../src/queue/connections.js';
import { RedisPollState } from '../../src/queue/poll-state.js';
import { PushEventQueue, pushEventJobId } from '../../src/queue/push-event-queue.js';
import { receiverParts } from '../support/receiver-parts.js';
import { TestRedisServer } from '../support/redis-server.js';

// The enqueues of concurrent deliveries share one Redis round trip (PushEventQueue); each delivery
// must still get its own outcome, through the real Redis.

const event = (tag: string, id?: string): PushEvent => ({
  kind: 'push',
  source: 'generic',
  registry: 'registry.example.com',
  repository: 'team/api',
  tag,
  digest: `sha256:${tag.padStart(64, '0')}`,
  ...(id ? { sourceEventId: id } : {}),
  receivedAt: '2026-12-02T10:00:00.000Z',
});

/** Counts the pipelines the connection builds: one per round trip of the queue. */
function countPipelines(connection: Redis): { count: () => number } {
  let count = 0;
  const pipeline = connection.pipeline.bind(connection);
  connection.pipeline = (...args: Parameters<Redis['pipeline']>) => {
    count++;
    return pipeline(...args);
  };
  return { count: () => count };
}

describe('PushEventQueue batches concurrent deliveries', () => {
  let parts: Awaited<ReturnType<typeof receiverParts>>;
  let pipelines: { count: () => number };
  let prefix: string;

  beforeAll(async () => {
    parts = await receiverParts();
    prefix = parts.prefix;
    pipelines = countPipelines(parts.connection);
  });
  afterAll(async () => {
    await parts.connection.del(`${prefix}:poll:events`);
    await parts.close();
  });

  it('concurrent deliveries go in one round trip, and each gets the outcomes of its own events', async () => {
    const queue = new PushEventQueue({
      connection: parts.connection,
      prefix,
      pollState: new RedisPollState(parts.connection, prefix),
    });
    try {
      const deliveries = Array.from({ length: 20 }, (_, d) =>
        Array.from({ length: 1 + (d % 3) }, (_, e) => event(`c${d}-${e}`, `ci-${d}-${e}`)),
      );
      const before = pipelines.count();
      const outcomes = await Promise.all(deliveries.map((events) => queue.enqueue(events)));
      expect(pipelines.count() - before).toBe(1);
      outcomes.forEach((delivery, d) => {
        expect(delivery.map((o) => o.event)).toEqual(deliveries[d]);
        expect(delivery.map((o) => o.jobId)).toEqual(deliveries[d]!.map(pushEventJobId));
        expect(delivery.every((o) => !o.duplicate)).toBe(true);
      });
      const all = deliveries.flat();
      const jobs = await parts.jobs();
      expect(jobs.map((j) => j.id).sort()).toEqual(all.map(pushEventJobId).sort());
      // The poll state was written in the same round trip.
      const recorded = await parts.connection.hkeys(`${prefix}:poll:events`);
      expect(recorded.sort()).toEqual(
        all.map((e) => `${e.registry}/${e.repository}:${e.tag}`).sort(),
      );
    } finally {
      await queue.close();
    }
  });

  it('a duplicate inside one batch is one job, reported as a duplicate to the later delivery only', async () => {
    const first = event('dup', 'ci-dup');
    const again = { ...first, receivedAt: '2026-12-02T10:00:01.000Z' };
    const before = pipelines.count();
    const [a, b, c] = await Promise.all([
      parts.queue.enqueue([first]),
      parts.queue.enqueue([again]),
      // One delivery that holds the same event twice.
      parts.queue.enqueue([event('dup2', 'ci-dup2'), event('dup2', 'ci-dup2')]),
    ]);
    expect(pipelines.count() - before).toBe(1);
    expect(a).toEqual([{ event: first, jobId: pushEventJobId(first), duplicate: false }]);
    expect(b).toEqual([{ event: again, jobId: pushEventJobId(first), duplicate: true }]);
    expect(c.map((o) => o.duplicate)).toEqual([false, true]);
    const ids = (await parts.jobs()).map((j) => j.id);
    expect(ids.filter((id) => id === pushEventJobId(first))).toHaveLength(1);
    expect(ids.filter((id) => id === c[0]!.jobId)).toHaveLength(1);
  });

  it('a delivery past the batch size is sent at once, with what waited before it', async () => {
    const small = new PushEventQueue({
      connection: parts.connection,
      prefix,
      maxBatchEvents: 3,
    });
    try {
      const before = pipelines.count();
      const outcomes = await Promise.all([
        small.enqueue([event('m1', 'ci-m1')]),
        small.enqueue([event('m2', 'ci-m2'), event('m3', 'ci-m3')]),
        small.enqueue([event('m4', 'ci-m4')]),
      ]);
      // The first two fill a batch (3 events) and go at once; the third goes at the end of the turn.
      expect(pipelines.count() - before).toBe(2);
      expect(outcomes.flat().map((o) => o.event.tag)).toEqual(['m1', 'm2', 'm3', 'm4']);
      expect(outcomes.flat().every((o) => !o.duplicate)).toBe(true);
    } finally {
      await small.close();
    }
  });
});

describe('Redis goes down while a batch is in flight', () => {
  let redis: TestRedisServer;
  let admin: Redis;
  let parts: Awaited<ReturnType<typeof receiverParts>>;

  beforeAll(async () => {
    redis = await TestRedisServer.start();
    parts = await receiverParts(redis.url);
  });
  afterAll(async () => {
    await parts.close();
    if (admin) await closeConnection(admin);
    await redis.kill();
  });

  it('every delivery of the batch is refused (503), and their retries lose nothing', async () => {
    const body = (n: number) => ({
      image: `registry.example.com/team/api:r${n}`,
      id: `ci-r${n}`,
    });
    const delivery = (n: number) => ({
      body: body(n),
      headers: {},
      receivedAt: new Date('2026-12-02T10:00:00.000Z'),
    });
    // Redis takes the batch but answers nothing, then crashes.
    admin = createProducerConnection({
      url: redis.url,
      connectTimeoutMs: 500,
      logger: parts.logger,
      name: 'test-admin',
    });
    await waitForReady(admin, 5_000);
    await admin.call('CLIENT', 'PAUSE', '10000', 'ALL');
    const results = Array.from({ length: 10 }, (_, n) =>
      parts.ingest.ingest('generic', NORMALIZERS.generic, delivery(n)),
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    await redis.kill();
    const answered = await Promise.all(results);
    expect(answered.map((r) => r.status)).toEqual(Array(10).fill('unavailable'));

    // Redis comes back (empty: no persistence); the senders retry, and every event is one job.
    await closeConnection(admin);
    await redis.start();
    await new Promise<void>((resolve) => {
      if (parts.connection.status === 'ready') resolve();
      else parts.connection.once('ready', () => resolve());
    });
    const retried = await Promise.all(
      Array.from({ length: 10 }, (_, n) =>
        parts.ingest.ingest('generic', NORMALIZERS.generic, delivery(n)),
      ),
    );
    expect(retried.map((r) => r.status)).toEqual(Array(10).fill('accepted'));
    expect((await parts.jobs()).map((j) => j.data.tag).sort()).toEqual(
      Array.from({ length: 10 }, (_, n) => `r${n}`).sort(),
    );
  });
});
