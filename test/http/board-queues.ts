import { randomUUID } from 'node:crypto';
import { createLogger } from '../../src/observability/logger.js';
import {
  closeConnection,
  createProducerConnection,
  waitForReady,
} from '../../src/queue/connections.js';
import { PushEventQueue } from '../../src/queue/push-event-queue.js';
import { RolloutQueue } from '../../src/queue/rollout-queue.js';

const REDIS_URL = process.env.CVM_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface BoardQueues {
  pushEvents: PushEventQueue;
  rollouts: RolloutQueue;
  /** Obliterates both queues and closes them and their connection. */
  close(): Promise<void>;
}

/**
 * The two queues of cvm on the machine's Redis under a prefix of their own, holding two waiting
 * push events (`acme/api:prod`, `acme/api:staging`) and one waiting rollout (`shop/api`).
 */
export async function openBoardQueues(name: string): Promise<BoardQueues> {
  const prefix = `test-${name}-${randomUUID().slice(0, 8)}`;
  const connection = createProducerConnection({
    url: REDIS_URL,
    connectTimeoutMs: 2_000,
    logger: createLogger({ level: 'silent' }),
    name: `test-${name}`,
  });
  await waitForReady(connection, 5_000);
  const pushEvents = new PushEventQueue({ connection, prefix });
  const rollouts = new RolloutQueue({ connection, prefix });
  const receivedAt = new Date().toISOString();
  await pushEvents.enqueue(
    ['prod', 'staging'].map((tag) => ({
      kind: 'push' as const,
      registry: 'ghcr.io',
      repository: 'acme/api',
      tag,
      source: 'ghcr' as const,
      sourceEventId: `delivery-${tag}`,
      receivedAt,
    })),
  );
  await rollouts.enqueue({
    namespace: 'shop',
    name: 'api',
    uid: randomUUID(),
    trigger: { kind: 'push', source: 'ghcr', receivedAt },
  });
  return {
    pushEvents,
    rollouts,
    close: async () => {
      for (const queue of [pushEvents.queue, rollouts.queue])
        await queue.obliterate({ force: true });
      await pushEvents.close();
      await rollouts.close();
      await closeConnection(connection);
    },
  };
}
