import express, { type Request, type Response } from 'express';
import type { Metrics } from '../observability/metrics.js';
import type { QueueAdmin } from '../queue/queue-admin.js';
import type { BoardQueue } from '../queue/queue-board.js';
import { API_PATH, createApiRouter, type ApiRouterDeps } from './api-router.js';
import { opsAuth } from './ops-auth.js';
import { QUEUE_BOARD_PATH, createQueueBoardRouter } from './queue-board-router.js';

/** A named check for `/readyz`: resolves true when the dependency can serve. */
export interface ReadinessCheck {
  name: string;
  check(): Promise<boolean> | boolean;
}

export interface OpsAppDeps {
  metrics: Metrics;
  readiness: readonly ReadinessCheck[];
  /**
   * `CVM_OPS_TOKEN`: required (bearer, or basic-auth password) by `/metrics` and the queue board.
   * Undefined: those routes answer 404; `/healthz` and `/readyz` stay open either way.
   */
  opsToken?: string | undefined;
  /**
   * `CVM_ADMIN_TOKEN`: reads what the ops token reads and may also retry, clean and promote on
   * the queue board (with `queueAdmin`). Undefined: the board is read-only for everyone.
   */
  adminToken?: string | undefined;
  /** The BullMQ queues the board at `/admin/queues` shows. None: no board. */
  queues?: readonly BoardQueue[];
  /** Carries out the board's retries (a rollout through its CV's deduplication). */
  queueAdmin?: QueueAdmin;
  /** The REST API's sources (processes that watch CVs: worker, reconciler). None: `/api/v1` answers 404. */
  api?: Omit<ApiRouterDeps, 'queues' | 'boardPath'>;
}

/**
 * The ops port's app: `/healthz` (the process runs) and `/readyz` (its dependencies answer), open
 * for kubelet probes; `/metrics` (Prometheus) and the queue board (`/admin/queues`) behind the ops
 * token (`opsAuth`); the board's retry, clean and promote behind the admin token; the REST API
 * (`/api/v1`, reads with either token, actions with the admin token).
 */
export function createOpsApp(deps: OpsAppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_request: Request, response: Response) => {
    response.json({ status: 'ok' });
  });
  app.get('/readyz', async (_request: Request, response: Response) => {
    const results = await Promise.all(
      deps.readiness.map(
        async (r) => [r.name, await Promise.resolve(r.check()).catch(() => false)] as const,
      ),
    );
    const ready = results.every(([, ok]) => ok);
    response
      .status(ready ? 200 : 503)
      .json({ status: ready ? 'ready' : 'not ready', checks: Object.fromEntries(results) });
  });
  const auth = opsAuth({ opsToken: deps.opsToken, adminToken: deps.adminToken });
  // Every method of /metrics passes the token check first: express would otherwise answer an
  // OPTIONS on its own, without asking for credentials.
  app.use('/metrics', auth, (request: Request, response: Response, next) => {
    if (request.path !== '/') return next();
    if (request.method === 'GET' || request.method === 'HEAD')
      return void deps.metrics.registry
        .metrics()
        .then((text) => response.set('content-type', deps.metrics.registry.contentType).send(text))
        .catch(next);
    response.set('allow', 'GET, HEAD');
    if (request.method === 'OPTIONS') return void response.status(204).end();
    response.status(405).json({ error: 'method not allowed' });
  });
  if (deps.api) {
    const admin = deps.queueAdmin;
    app.use(
      API_PATH,
      auth,
      createApiRouter({
        ...deps.api,
        ...(admin ? { queues: { stats: () => admin.stats() } } : {}),
        ...(deps.queues?.length ? { boardPath: QUEUE_BOARD_PATH } : {}),
      }),
    );
  } else
    app.use(API_PATH, auth, (_request: Request, response: Response) => {
      response.status(404).json({
        error: 'not found',
        message: 'this process serves no REST API: it runs in the worker and reconciler roles',
      });
    });
  if (deps.queues !== undefined && deps.queues.length > 0) {
    const admin = deps.adminToken ? deps.queueAdmin : undefined;
    app.use(
      QUEUE_BOARD_PATH,
      auth,
      createQueueBoardRouter(deps.queues, {
        basePath: QUEUE_BOARD_PATH,
        ...(admin ? { admin } : {}),
      }),
    );
  }
  return app;
}
