import { ExpressAdapter } from '@bull-board/express';
import express, { type NextFunction, type Request, type Response } from 'express';
import { isQueueName, type QueueAdmin } from '../queue/queue-admin.js';
import { registerQueueBoard, type BoardQueue } from '../queue/queue-board.js';
import { opsRoleOfResponse } from './ops-auth.js';

/** Where the ops port serves the BullMQ queue board. */
import { QUEUE_BOARD_PATH } from './ops-paths.js';

export { QUEUE_BOARD_PATH };

export interface QueueBoardOptions {
  /** Mount path; the board's page links its scripts and API through `<base href="<basePath>/">`. */
  basePath?: string;
  /**
   * Enables the admin board (retry, clean, promote) for requests with the admin role; its retries
   * go through {@link QueueAdmin}. Undefined: read-only for everyone.
   */
  admin?: QueueAdmin;
}

/** A board action cvm lets an admin use, from the board's API path (relative to its mount). */
type BoardAction =
  | { kind: 'retry-all'; queue: string; status: string }
  | { kind: 'retry-job'; queue: string; id: string }
  | { kind: 'clean' | 'promote'; queue: string };

const ACTIONS: [RegExp, (m: RegExpExecArray) => BoardAction][] = [
  [
    /^\/api\/queues\/([^/]+)\/retry\/([^/]+)$/,
    (m) => ({ kind: 'retry-all', queue: m[1]!, status: m[2]! }),
  ],
  [
    /^\/api\/queues\/([^/]+)\/([^/]+)\/retry$/,
    (m) => ({ kind: 'retry-job', queue: m[1]!, id: m[2]! }),
  ],
  [
    /^\/api\/queues\/([^/]+)\/(?:[^/]+\/)?clean(?:\/[^/]+)?$/,
    (m) => ({ kind: 'clean', queue: m[1]! }),
  ],
  [/^\/api\/queues\/([^/]+)\/(?:[^/]+\/)?promote$/, (m) => ({ kind: 'promote', queue: m[1]! })],
];

/** The action a `PUT` to `path` is, or undefined for every other action of the board. */
export function boardActionOf(method: string, path: string): BoardAction | undefined {
  if (method !== 'PUT') return undefined;
  for (const [pattern, action] of ACTIONS) {
    const match = pattern.exec(path);
    if (match) return action(match);
  }
  return undefined;
}

const forbidden = (response: Response, message: string) =>
  response.status(403).json({ error: 'forbidden', message });

function boardRouter(queues: readonly BoardQueue[], basePath: string, readOnly: boolean) {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(basePath);
  registerQueueBoard(serverAdapter, queues, { readOnly });
  const router = serverAdapter.getRouter() as express.Express;
  router.disable('x-powered-by');
  return router;
}

/** Retries through {@link QueueAdmin}, answering as the board's own retry routes do. */
async function retry(admin: QueueAdmin, action: BoardAction, response: Response): Promise<void> {
  const queue = decodeURIComponent(action.queue);
  if (!isQueueName(queue))
    return void response.status(404).json({ error: { key: 'ERRORS.QUEUE_NOT_FOUND' } });
  if (action.kind === 'retry-all') {
    if (action.status !== 'failed')
      return void forbidden(
        response,
        'only failed jobs are retried (dead letters); completed jobs ran',
      );
    const retried = (await admin.retryAll(queue))[queue] ?? 0;
    return void response.json({ retried, skipped: 0 });
  }
  if (action.kind !== 'retry-job') return;
  const id = decodeURIComponent(action.id);
  const result = await admin.retry([id], queue);
  if (result.done.length === 0)
    return void response
      .status(404)
      .json({ error: 'not found', message: `no failed job ${JSON.stringify(id)} in ${queue}` });
  response.status(204).end();
}

/**
 * The Bull Board for `queues`, behind `opsAuth`, which sets the role:
 *
 * - reads (GET, HEAD): the read-only board for the ops role, the admin board (with its action
 *   buttons) for the admin role;
 * - actions (any other method): 403 for the ops role, saying the admin token is needed; for the
 *   admin role retry, clean and promote, and 403 for the board's other actions (pause, empty,
 *   obliterate, add, edit: an emptied push-events queue would lose accepted events). Retries go
 *   through {@link QueueAdmin}, so a rollout is retried through its CV's deduplication.
 */
export function createQueueBoardRouter(
  queues: readonly BoardQueue[],
  options: QueueBoardOptions = {},
): express.Router {
  const basePath = options.basePath ?? QUEUE_BOARD_PATH;
  const readRouter = boardRouter(queues, basePath, true);
  const admin = options.admin;
  const adminRouter = admin ? boardRouter(queues, basePath, false) : undefined;
  const router = express.Router();
  router.use((request: Request, response: Response, next: NextFunction) => {
    const role = opsRoleOfResponse(response);
    if (request.method === 'GET' || request.method === 'HEAD')
      return (role === 'admin' && adminRouter ? adminRouter : readRouter)(request, response, next);
    if (role !== 'admin' || !admin || !adminRouter) {
      return void forbidden(
        response,
        admin
          ? 'retry, clean and promote on the queue board need the admin token (CVM_ADMIN_TOKEN); the ops token only reads'
          : 'the queue board is read-only: set CVM_ADMIN_TOKEN to enable retry, clean and promote',
      );
    }
    const action = boardActionOf(request.method, request.path);
    if (!action) {
      return void forbidden(
        response,
        `cvm's queue board offers retry, clean and promote; ${request.method} ${request.path} is none of them`,
      );
    }
    if (action.kind === 'retry-all' || action.kind === 'retry-job')
      return void retry(admin, action, response).catch(next);
    adminRouter(request, response, next);
  });
  return router;
}
