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
 * whose base path the caller has set to its mount path).
 *
 * - `readOnly` (the default): enforced by the board's server: pause, resume, retry, promote,
 *   clean, remove and add answer 405, and the page shows no action buttons.
 * - Not read-only: the board's actions are enabled, retries of failed jobs only (not of completed
 *   ones). Which of them may be used is for the caller to decide (`src/http/queue-board-router.ts`
 *   lets through retry, clean and promote, and retries through `QueueAdmin`).
 */
export function registerQueueBoard(
  serverAdapter: IServerAdapter,
  queues: readonly BoardQueue[],
  { readOnly = true }: { readOnly?: boolean } = {},
): void {
  createBullBoard({
    queues: queues.map((queue) => {
      // allowCompletedRetries is read by the adapter's base class but missing from its options type.
      const options = {
        readOnlyMode: readOnly,
        allowRetries: !readOnly,
        allowCompletedRetries: false,
        ...(descriptions[queue.name] ? { description: descriptions[queue.name] } : {}),
      };
      return new BullMQAdapter(queue, options);
    }),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'cvm queues' } },
  });
}
