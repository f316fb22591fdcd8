import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  closeConnection,
  createWorkerConnection,
  type Redis,
} from '../../src/queue/connections.js';
import { QueueName } from '../../src/queue/names.js';
import { QueueWorker } from '../../src/queue/queue-worker.js';
import { capturingLogger } from '../support/receiver-parts.js';
import { TestRedisServer } from '../support/redis-server.js';
import { waitFor } from '../support/wait-for.js';

let redis: TestRedisServer;
let connection: Redis;
const { lines, logger } = capturingLogger();

beforeAll(async () => {
  redis = await TestRedisServer.start();
  connection = createWorkerConnection({
    url: redis.url,
    connectTimeoutMs: 500,
    logger,
    name: 'outage-worker',
  });
});
afterAll(async () => {
  await closeConnection(connection);
  await redis.kill();
});

const logged = (msg: string) => lines.filter((l) => l.msg === msg);

describe('a queue worker while Redis is down', () => {
  it('logs one line when the outage starts and one with the count when it ends, not one per attempt', async () => {
    const worker = new QueueWorker<unknown>({
      queue: QueueName.PushEvents,
      connection,
      prefix: 'outage-log',
      logger,
      process: () => Promise.resolve(),
    });
    await worker.start();
    try {
      await waitFor(() => connection.status === 'ready', 'the worker connection');
      let reconnects = 0;
      connection.on('reconnecting', () => (reconnects += 1));
      await redis.kill();
      // Every reconnect attempt of the worker's connections fails and BullMQ reports each one.
      await waitFor(() => reconnects >= 6, 'six failed reconnect attempts', { timeoutMs: 30_000 });
      expect(logged('queue worker error')).toHaveLength(1);
      expect(logged('redis connection lost')).toHaveLength(1);

      await redis.start();
      const ended = await waitFor(
        () => logged('queue worker errors ended')[0],
        'the end of the outage in the log',
        { timeoutMs: 30_000 },
      );
      expect(ended.failures).toBeGreaterThan(1);
      const restored = logged('redis connection restored');
      expect(restored).toHaveLength(1);
      expect(restored[0]?.failures).toBeGreaterThan(1);
      expect(logged('queue worker error')).toHaveLength(1);
    } finally {
      await worker.stop();
    }
  }, 90_000);
});
