import { randomUUID } from 'node:crypto';
import type { PushEvent } from '../../src/events/push-event.js';
import { createLogger } from '../../src/observability/logger.js';
import {
  closeConnection,
  createProducerConnection,
  createWorkerConnection,
  waitForReady,
} from '../../src/queue/connections.js';
import { PermanentJobError } from '../../src/queue/job-errors.js';
import { QueueName } from '../../src/queue/names.js';
import { PushEventQueue } from '../../src/queue/push-event-queue.js';
import { QueueWorker } from '../../src/queue/queue-worker.js';
import { RolloutQueue, type RolloutJobData } from '../../src/queue/rollout-queue.js';
import { waitFor } from './wait-for.js';

export const REDIS_URL = process.env.CVM_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export const pushEvent = (tag: string): PushEvent => ({
  kind: 'push',
  registry: 'ghcr.io',
  repository: 'acme/api',
  tag,
  digest: `sha256:${randomUUID().replaceAll('-', '').padEnd(64, '0')}`,
  source: 'ghcr',
  sourceEventId: `delivery-${tag}-${randomUUID()}`,
  receivedAt: new Date().toISOString(),
});

export const rolloutFor = (name: string, uid = `uid-${name}`): RolloutJobData => ({
  namespace: 'shop',
  name,
  uid,
  trigger: {
    kind: 'push',
    source: 'ghcr',
    receivedAt: new Date(Date.now() - 3_600_000).toISOString(),
  },
});

/**
 * cvm's two queues on the machine's Redis under a prefix of their own, and a way to turn jobs into
 * dead letters the way production does: a real worker whose processor fails (push events at once,
 * as a permanent error; rollouts after their single attempt, as a transient one).
 */
export async function deadLetterQueues(name: string) {
  const prefix = `test-${name}-${randomUUID().slice(0, 8)}`;
  const logger = createLogger({ level: 'silent' });
  const connection = createProducerConnection({
    url: REDIS_URL,
    connectTimeoutMs: 2_000,
    logger,
    name: `test-${name}`,
  });
  await waitForReady(connection, 5_000);
  const pushEvents = new PushEventQueue({ connection, prefix });
  const rollouts = new RolloutQueue({ connection, prefix, attempts: 1, backoffMs: 10 });

  /** Runs a failing worker on `queue` until `count` jobs are in its failed set. */
  async function failAll(queue: QueueName, count: number): Promise<void> {
    const workerConnection = createWorkerConnection({
      url: REDIS_URL,
      connectTimeoutMs: 2_000,
      logger,
      name: `test-${name}-worker`,
    });
    const worker = new QueueWorker<unknown>({
      queue,
      connection: workerConnection,
      prefix,
      logger,
      drainTimeoutMs: 2_000,
      process: () =>
        Promise.reject(
          queue === QueueName.PushEvents
            ? new PermanentJobError('route failed: no CV index')
            : new Error('registry unavailable: connect ECONNREFUSED'),
        ),
    });
    await worker.start();
    const target = queue === QueueName.PushEvents ? pushEvents.queue : rollouts.queue;
    try {
      await waitFor(
        async () => (await target.getFailedCount()) >= count,
        `${count} failed jobs on ${queue}`,
        { timeoutMs: 10_000 },
      );
    } finally {
      await worker.stop();
      await closeConnection(workerConnection);
    }
  }

  return {
    prefix,
    pushEvents,
    rollouts,
    failAll,
    env: { CVM_REDIS_URL: REDIS_URL, CVM_QUEUE_PREFIX: prefix },
    close: async () => {
      for (const queue of [pushEvents.queue, rollouts.queue])
        await queue.obliterate({ force: true }).catch(() => undefined);
      await pushEvents.close();
      await rollouts.close();
      await closeConnection(connection);
    },
  };
}
