import { Redis as AdminRedis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import type { PushEvent } from '../../src/events/push-event.js';
import {
  closeConnection,
  createProducerConnection,
  waitForReady,
} from '../../src/queue/connections.js';
import { NotificationQueue } from '../../src/queue/notification-queue.js';
import { PushEventQueue } from '../../src/queue/push-event-queue.js';
import { RolloutQueue } from '../../src/queue/rollout-queue.js';
import { capturingLogger } from '../support/receiver-parts.js';
import { TestRedisServer } from '../support/redis-server.js';
import { waitFor } from '../support/wait-for.js';

const event: PushEvent = {
  kind: 'push',
  source: 'ecr',
  registry: '123456789012.dkr.ecr.us-east-1.amazonaws.com',
  repository: 'team/api',
  tag: 'staging',
  digest: 'sha256:1bc04b5291c26a46d918139138b992d2de976d6851d0893b0476b85bfbdfc6e6',
  sourceEventId: 'restart-1',
  receivedAt: '2026-01-01T00:00:00.000Z',
};

describe('producer queues across a Redis crash', () => {
  it('queues created while Redis answers nothing, which then crashes and comes back, take work once it is back', async () => {
    const redis = await TestRedisServer.start();
    const prefix = 'producer-restart';
    const connection = createProducerConnection({
      url: redis.url,
      connectTimeoutMs: 500,
      logger: capturingLogger().logger,
      name: 'test-producer',
    });
    const admin = new AdminRedis(redis.url, { retryStrategy: () => null });
    admin.on('error', () => undefined);
    const queues = {
      pushEvents: undefined as PushEventQueue | undefined,
      rollouts: undefined as RolloutQueue | undefined,
      notifications: undefined as NotificationQueue | undefined,
    };
    try {
      await waitForReady(connection, 5_000);
      // Redis reads nothing more, so whatever a queue sends when it is created is still in flight
      // when Redis crashes, as on a loaded machine (a whole-suite run) where a restart came a few
      // milliseconds after the queue was created.
      await admin.call('CLIENT', 'PAUSE', '10000', 'ALL');
      queues.pushEvents = new PushEventQueue({ connection, prefix });
      queues.rollouts = new RolloutQueue({ connection, prefix });
      queues.notifications = new NotificationQueue({ connection, prefix });
      await new Promise((resolve) => setTimeout(resolve, 100));
      let closes = 0;
      connection.on('close', () => closes++);
      await redis.kill();
      // The second failed reconnect is where ioredis fails in-flight commands (maxRetriesPerRequest 1).
      await waitFor(() => closes >= 2, 'two failed reconnects');
      await redis.start();
      await waitFor(() => connection.status === 'ready', 'the connection to be ready', {
        timeoutMs: 10_000,
      });

      const pushEvents = queues.pushEvents;
      let lastError: Error | undefined;
      const [outcome] = await waitFor(
        () =>
          pushEvents.enqueue([event]).catch((error: Error) => {
            lastError = error;
            return undefined;
          }),
        'the push event to be enqueued',
        { timeoutMs: 5_000, intervalMs: 200 },
      ).catch((error: Error) => {
        throw new Error(`${error.message}; last error: ${lastError?.message}`);
      });
      expect(outcome?.duplicate).toBe(false);
      expect(await queues.rollouts.queue.getJobCounts('wait')).toEqual({ wait: 0 });
      expect(await queues.notifications.queue.getJobCounts('wait')).toEqual({ wait: 0 });
    } finally {
      admin.disconnect();
      await Promise.all([
        queues.pushEvents?.close(),
        queues.rollouts?.queue.close(),
        queues.notifications?.close(),
      ]);
      await closeConnection(connection);
      await redis.kill();
    }
  });
});
