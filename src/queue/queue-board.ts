import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import type { IServerAdapter } from '@bull-board/api/typings/app';
import type { Queue } from 'bullmq';
import { QueueName } from './names.js';

/**
 * A BullMQ queue the board shows: `PushEventQueue.queue`, `RolloutQueue.queue`. Named here so that
 * modules which may not import bullmq can still pass queues along.
 */
export type BoardQueue = Queue;

const descriptions: Record<string, string> = {
  [QueueName.PushEvents]: 'One job per accepted PushEvent; route turns each into rollouts.',
  [QueueName.Rollouts]: 'One job per ContainerVersion to roll out.',
};

/**
 * Registers `queues` with a Bull Board server adapter (`@bull-board/express`'s `ExpressAdapter`,
 * whose base path the caller has set to its mount path). The board is read-only, enforced by the
 * board's server: pause, resume, retry, promote, clean, remove and add answer 405.
 */
export function registerQueueBoard(
  serverAdapter: IServerAdapter,
  queues: readonly BoardQueue[],
): void {
  createBullBoard({
    queues: queues.map(
      (queue) =>
        new BullMQAdapter(queue, {
          readOnlyMode: true,
          allowRetries: false,
          ...(descriptions[queue.name] ? { description: descriptions[queue.name] } : {}),
        }),
    ),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'cvm queues' } },
  });
}
