import express, { type Request, type Response } from 'express';
import type { QueueStats } from '../queue/queue-admin.js';

/** Where the ops port serves the queues' job counts (behind `opsAuth`). */
export const QUEUES_API_PATH = '/api/v1/queues';

/** What the queues API needs: job counts per queue (`QueueAdmin`). */
export interface QueueStatsSource {
  stats(): Promise<QueueStats[]>;
}

/**
 * `GET /` → `{ items: [{ queue, waiting, active, delayed, failed, completed }], board }`, the
 * counts of every cvm queue and the path of the queue board; 503 `{ error, message }` when Redis
 * does not answer. Mount it at {@link QUEUES_API_PATH} behind `opsAuth`.
 */
export function createQueuesApiRouter(
  source: QueueStatsSource,
  options: { boardPath: string },
): express.Router {
  const router = express.Router();
  router.get('/', (_request: Request, response: Response) => {
    source.stats().then(
      (items) => response.json({ items, board: options.boardPath }),
      (error: unknown) =>
        response.status(503).json({
          error: 'unavailable',
          message: `the queues cannot be read: ${error instanceof Error ? error.message : String(error)}`,
        }),
    );
  });
  return router;
}
