import express, { type Request, type RequestHandler, type Response } from 'express';
import type { Metrics } from '../observability/metrics.js';
import type { QueueAdmin } from '../queue/queue-admin.js';
import type { BoardQueue } from '../queue/queue-board.js';
import { createDashboardRouter } from './dashboard-router.js';
import { createLoginRouter } from './login-router.js';
import type { ApiRouterDeps } from './api-router.js';
import { opsAuth } from './ops-auth.js';
import { API_PATH, QUEUE_BOARD_PATH } from './ops-paths.js';
import { STREAM_PATH, type ChangeStream } from './stream-router.js';

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
  /** Carries out the board's retries (a rollout through its CV's deduplication); its counts feed `/api/v1/queues`. */
  queueAdmin?: QueueAdmin;
  /** Lifetime of a login session, seconds (`CVM_OPS_SESSION_SECONDS`); default 43 200 (12 h). */
  sessionSeconds?: number;
  /** Server-sent events of the cluster's changes at `/api/v1/stream`. None: that route is 404. */
  stream?: ChangeStream;
  /** Clock of the session cookies; default `() => new Date()`. */
  now?: () => Date;
  /** The REST API's sources (processes that watch CVs: worker, reconciler). None: `/api/v1` answers 404. */
  api?: Omit<ApiRouterDeps, 'queues' | 'boardPath'>;
}

/**
 * A router built, and its module loaded, with the first request it serves: a process that is never
 * asked for the REST API or the queue board (a receiver, most of the time) loads neither them nor
 * Bull Board.
 */
function lazyRouter(build: () => Promise<RequestHandler>): RequestHandler {
  let router: Promise<RequestHandler> | undefined;
  return (request, response, next) => {
    router ??= build();
    router.then((handler) => handler(request, response, next)).catch(next);
  };
}

/**
 * The ops port's app: `/healthz` (the process runs) and `/readyz` (its dependencies answer), open
 * for kubelet probes; `/metrics` (Prometheus) and the queue board (`/admin/queues`) behind the ops
 * token (`opsAuth`); the board's retry, clean and promote behind the admin token; the REST API
 * (`/api/v1`, reads with either token, actions with the admin token), the dashboard (`/`) and
 * `/api/v1/stream` behind the same credentials; `/login` sets a session cookie that every one of
 * them accepts, so a browser logs in once.
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
  const tokens = { opsToken: deps.opsToken, adminToken: deps.adminToken };
  const clock = deps.now ? { now: deps.now } : {};
  const auth = opsAuth({ ...tokens, ...clock });
  const pageAuth = opsAuth({ ...tokens, ...clock, loginRedirect: true });
  if (deps.opsToken || deps.adminToken)
    app.use(
      createLoginRouter({ ...tokens, ...clock, sessionSeconds: deps.sessionSeconds ?? 43_200 }),
    );
  app.use(createDashboardRouter({ auth: pageAuth, tokens }));
  if (deps.stream) app.use(STREAM_PATH, auth, deps.stream.router());
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
    const api = deps.api;
    app.use(
      API_PATH,
      auth,
      lazyRouter(async () =>
        (await import('./api-router.js')).createApiRouter({
          ...api,
          ...(admin ? { queues: { stats: () => admin.stats() } } : {}),
          ...(deps.queues?.length ? { boardPath: QUEUE_BOARD_PATH } : {}),
        }),
      ),
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
    const queues = deps.queues;
    app.use(
      QUEUE_BOARD_PATH,
      auth,
      lazyRouter(async () =>
        (await import('./queue-board-router.js')).createQueueBoardRouter(queues, {
          basePath: QUEUE_BOARD_PATH,
          ...(admin ? { admin } : {}),
        }),
      ),
    );
  }
  return app;
}
