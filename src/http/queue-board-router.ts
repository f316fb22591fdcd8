import { ExpressAdapter } from '@bull-board/express';
import type express from 'express';
import { registerQueueBoard, type BoardQueue } from '../queue/queue-board.js';

/** Where the ops port serves the BullMQ queue board. */
export const QUEUE_BOARD_PATH = '/admin/queues';

/**
 * The read-only Bull Board for `queues`, to be mounted at `basePath` (the board's page links its
 * scripts and its API through `<base href="<basePath>/">`, so the two must be equal). It carries
 * no authentication of its own: mount it behind `opsAuth`.
 */
export function createQueueBoardRouter(
  queues: readonly BoardQueue[],
  basePath: string = QUEUE_BOARD_PATH,
): express.Express {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(basePath);
  registerQueueBoard(serverAdapter, queues);
  const router = serverAdapter.getRouter() as express.Express;
  router.disable('x-powered-by');
  return router;
}
