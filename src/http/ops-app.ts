import express, { type Request, type Response } from 'express';
import type { Metrics } from '../observability/metrics.js';

/** A named check for `/readyz`: resolves true when the dependency can serve. */
export interface ReadinessCheck {
  name: string;
  check(): Promise<boolean> | boolean;
}

export interface OpsAppDeps {
  metrics: Metrics;
  readiness: readonly ReadinessCheck[];
}

/**
 * The ops port's app: `/healthz` (the process runs), `/readyz` (its dependencies answer) and
 * `/metrics` (Prometheus). The REST API, dashboard and queue board join it in later issues.
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
  app.get('/metrics', async (_request: Request, response: Response) => {
    response
      .set('content-type', deps.metrics.registry.contentType)
      .send(await deps.metrics.registry.metrics());
  });
  return app;
}
