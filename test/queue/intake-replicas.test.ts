import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PushEvent } from '../../src/events/push-event.js';
import { createLogger } from '../../src/observability/logger.js';
import {
  closeConnection,
  createProducerConnection,
  waitForReady,
  type Redis,
} from '../../src/queue/connections.js';
import { PushEventQueue, QueueUnavailableError } from '../../src/queue/push-event-queue.js';
import { redisCli } from '../support/redis-sentinel.js';
import { TestRedisServer } from '../support/redis-server.js';
import { waitFor } from '../support/wait-for.js';

const logger = createLogger({ level: 'silent' });
let primary: TestRedisServer;
let replica: TestRedisServer | undefined;
let producer: Redis;
const queues: PushEventQueue[] = [];

beforeAll(async () => {
  primary = await TestRedisServer.start();
  producer = createProducerConnection({
    url: primary.url,
    connectTimeoutMs: 500,
    logger,
    name: 'intake-replicas',
  });
  await waitForReady(producer, 5_000);
});

afterAll(async () => {
  for (const q of queues) await q.close();
  await closeConnection(producer);
  await replica?.kill();
  await primary?.kill();
});

const event = (tag: string): PushEvent => ({
  source: 'generic',
  kind: 'push',
  registry: 'registry.example',
  repository: 'team/api',
  tag,
  digest: `sha256:${'a'.repeat(64)}`,
  sourceEventId: `id-${tag}`,
  receivedAt: new Date().toISOString(),
});

const queue = (replicasToAck: number, enqueueTimeoutMs = 600) => {
  const q = new PushEventQueue({
    connection: producer,
    prefix: `intake-${replicasToAck}`,
    enqueueTimeoutMs,
    replicasToAck,
  });
  queues.push(q);
  return q;
};

describe('CVM_REDIS_INTAKE_REPLICAS: an event is accepted only once replicas hold it', () => {
  it('with no replica to confirm it, the enqueue fails as "may have written", so the receiver answers 503', async () => {
    const error = await queue(1)
      .enqueue([event('alone')])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QueueUnavailableError);
    expect(error).toMatchObject({
      mayHaveWritten: true,
      message: '0 of 1 redis replicas confirmed the write',
    });
  });

  it('once a replica follows the primary, the same enqueue resolves; 0 needs none', async () => {
    expect(await queue(0).enqueue([event('primary-only')])).toHaveLength(1);
    replica = await TestRedisServer.start({
      args: ['--replicaof', '127.0.0.1', String(primary.port)],
    });
    await waitFor(
      async () =>
        (await redisCli(replica!.port, 'info', 'replication')).includes('master_link_status:up'),
      'the replica to sync',
      { timeoutMs: 15_000, intervalMs: 100 },
    );
    // A replica that just synced may answer WAIT slowly on a loaded machine: a longer bound here.
    const [outcome] = await queue(1, 5_000).enqueue([event('replicated')]);
    expect(outcome?.duplicate).toBe(false);
    expect(await redisCli(replica.port, 'exists', `intake-1:push-events:${outcome!.jobId}`)).toBe(
      '1',
    );
  });
});
