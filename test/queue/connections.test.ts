import { randomUUID } from 'node:crypto';
import { Queue, Worker } from 'bullmq';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  closeConnection,
  createProducerConnection,
  createWorkerConnection,
  waitForReady,
  type Redis,
} from '../../src/queue/connections.js';
import { createLogger } from '../../src/observability/logger.js';
import { TestRedisServer, freePort } from '../support/redis-server.js';

const MACHINE_REDIS = process.env.CVM_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const logger = createLogger({ level: 'silent' });
const prefix = `test-conn-${randomUUID().slice(0, 8)}`;
const options = (url: string, name: string) => ({ url, connectTimeoutMs: 500, logger, name });

const opened: { close(): Promise<unknown> }[] = [];
const track = <T extends { close(): Promise<unknown> }>(x: T): T => {
  opened.push(x);
  return x;
};
const connections: Redis[] = [];
const connect = (factory: typeof createProducerConnection, url: string, name: string) => {
  const redis = factory(options(url, name));
  connections.push(redis);
  return redis;
};

afterEach(async () => {
  for (const x of opened.splice(0).reverse()) await x.close();
  for (const c of connections.splice(0)) await closeConnection(c);
});

const waitFor = async (predicate: () => boolean, timeoutMs: number) => {
  const deadline = Date.now() + timeoutMs;
  while (!predicate() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
  return predicate();
};

describe('producer connection', () => {
  it('enqueues through BullMQ on the machine Redis', async () => {
    const producer = connect(createProducerConnection, MACHINE_REDIS, 'producer');
    const queue = track(new Queue('conn-test', { connection: producer, prefix }));
    const job = await queue.add('e', { n: 1 }, { jobId: 'one' });
    expect(job.id).toBe('one');
    expect(await queue.getJobCounts('wait')).toEqual({ wait: 1 });
    await queue.obliterate({ force: true });
  });

  it('fails fast while Redis is unreachable, so a webhook can answer 503', async () => {
    const producer = connect(
      createProducerConnection,
      `redis://127.0.0.1:${await freePort()}`,
      'producer',
    );
    const started = Date.now();
    await expect(producer.ping()).rejects.toThrow();
    // Fails at once instead of queueing the command (ioredis' default would wait through 20 retries).
    expect(Date.now() - started).toBeLessThan(3_000);
    await expect(waitForReady(producer, 300)).rejects.toThrow(/redis not ready within 300 ms/);
  });

  it('reconnects by itself after Redis restarts', async () => {
    const server = await TestRedisServer.start();
    try {
      const producer = connect(createProducerConnection, server.url, 'producer');
      await waitForReady(producer, 5_000);
      expect(await producer.ping()).toBe('PONG');
      await server.kill();
      await expect(producer.ping()).rejects.toThrow();
      await server.start();
      expect(await waitFor(() => producer.status === 'ready', 10_000)).toBe(true);
      expect(await producer.ping()).toBe('PONG');
    } finally {
      await server.kill();
    }
  });
});

describe('worker connection', () => {
  it('is accepted by a BullMQ Worker, which processes what a producer enqueued', async () => {
    const producer = connect(createProducerConnection, MACHINE_REDIS, 'producer');
    const workerConnection = connect(createWorkerConnection, MACHINE_REDIS, 'worker');
    const queue = track(new Queue('conn-worker', { connection: producer, prefix }));
    const seen: number[] = [];
    track(
      new Worker<{ n: number }>('conn-worker', async (job) => void seen.push(job.data.n), {
        connection: workerConnection,
        prefix,
      }),
    );
    await queue.add('e', { n: 7 });
    expect(await waitFor(() => seen.length === 1, 10_000)).toBe(true);
    expect(seen).toEqual([7]);
    await queue.obliterate({ force: true });
  });

  it('a worker survives a Redis crash and processes jobs once Redis is back', async () => {
    const server = await TestRedisServer.start();
    try {
      const workerConnection = connect(createWorkerConnection, server.url, 'worker');
      const seen: string[] = [];
      const worker = track(
        new Worker<{ id: string }>('crash', async (job) => void seen.push(job.data.id), {
          connection: workerConnection,
          prefix,
        }),
      );
      worker.on('error', () => undefined); // reported through the connection's own log
      const producer = connect(createProducerConnection, server.url, 'producer');
      const queue = track(new Queue('crash', { connection: producer, prefix }));
      await queue.add('e', { id: 'before' });
      expect(await waitFor(() => seen.length === 1, 10_000)).toBe(true);

      await server.kill();
      await server.start(); // an empty Redis: persistence is off, as on the test machine
      expect(await waitFor(() => producer.status === 'ready', 10_000)).toBe(true);
      await queue.add('e', { id: 'after' });
      expect(await waitFor(() => seen.length === 2, 15_000)).toBe(true);
      expect(seen).toEqual(['before', 'after']);
      for (const x of opened.splice(0).reverse()) await x.close();
    } finally {
      await server.kill();
    }
  });
});

afterAll(async () => {
  for (const c of connections.splice(0)) await closeConnection(c);
});
