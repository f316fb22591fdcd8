import express, { type NextFunction, type Request, type Response } from 'express';
import type { RawDelivery } from '../events/push-event.js';
import type { IntakeOutcome, Metrics } from '../observability/metrics.js';
import type { Ingest, IngestResult } from './ingest.js';
import type { WebhookSource } from './sources.js';

export interface WebhookAppDeps {
  sources: readonly WebhookSource[];
  ingest: Ingest;
  metrics: Metrics;
  bodyLimitBytes: number;
  /** Seconds a sender should wait before retrying a 503. */
  retryAfterSeconds?: number;
  now?: () => Date;
}

type Answer = {
  status: number;
  outcome: IntakeOutcome;
  body: Record<string, unknown>;
  headers?: Record<string, string>;
};

const mediaTypeOf = (header: string | undefined) =>
  header?.split(';')[0]?.trim().toLowerCase() ?? '';

function headersOf(request: Request): Record<string, string | undefined> {
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(request.headers))
    headers[name] = Array.isArray(value) ? value.join(', ') : value;
  return headers;
}

/** JSON, or GitHub's form encoding (`payload=<json>`). Throws with a message for people. */
function parseBody(raw: Buffer, mediaType: string): unknown {
  const text = raw.toString('utf8');
  if (mediaType === 'application/x-www-form-urlencoded') {
    const payload = new URLSearchParams(text).get('payload');
    if (payload === null) throw new Error('body: form field "payload" is missing');
    return JSON.parse(payload);
  }
  if (text.trim() === '') throw new Error('body: empty');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`body: invalid JSON (${(error as Error).message})`, { cause: error });
  }
}

/** `invalid` in an answer only when some event was: each reason names its field. */
const invalidOf = (invalid: readonly string[]) => (invalid.length > 0 ? { invalid } : {});

function answerFor(result: IngestResult, retryAfterSeconds: number): Answer {
  switch (result.status) {
    case 'accepted': {
      const fresh = result.outcomes.filter((o) => !o.duplicate);
      return {
        status: 202,
        outcome: fresh.length > 0 ? 'accepted' : 'duplicate',
        body: {
          enqueued: fresh.map((o) => ({
            id: o.jobId,
            image: `${o.event.registry}/${o.event.repository}:${o.event.tag}`,
          })),
          duplicates: result.outcomes.filter((o) => o.duplicate).map((o) => ({ id: o.jobId })),
          ignored: result.ignored,
          ...invalidOf(result.invalid),
        },
      };
    }
    case 'ignored':
      return {
        status: 202,
        outcome: 'ignored',
        body: { enqueued: [], ignored: result.ignored, ...invalidOf(result.invalid) },
      };
    case 'malformed':
      return {
        status: 400,
        outcome: 'malformed',
        body: { error: result.message, ...invalidOf(result.invalid) },
      };
    case 'too_many':
      return { status: 413, outcome: 'too_many_events', body: { error: result.message } };
    case 'unavailable':
      return {
        status: 503,
        outcome: 'unavailable',
        body: { error: result.message },
        headers: { 'retry-after': String(retryAfterSeconds) },
      };
  }
}

/**
 * The webhook receiver's HTTP app: `POST /webhooks/<source>[/<token>]`. It authenticates, checks
 * the media type, parses, normalizes and enqueues, then answers; it never calls Kubernetes or a
 * registry. 202 only after the enqueue succeeded.
 */
export function createWebhookApp(deps: WebhookAppDeps): express.Express {
  const bySource = new Map(
    deps.sources.filter((s) => s.enabled).map((s) => [s.source as string, s]),
  );
  const now = deps.now ?? (() => new Date());
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  const send = (response: Response, source: string, started: bigint, answer: Answer) => {
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const labels = { source, outcome: answer.outcome };
    deps.metrics.webhookRequests.inc(labels);
    deps.metrics.webhookDuration.observe(labels, seconds);
    response
      .status(answer.status)
      .set(answer.headers ?? {})
      .json(answer.body);
  };

  const handle = async (request: Request, response: Response) => {
    const started = process.hrtime.bigint();
    const receivedAt = now();
    const source = bySource.get(String(request.params.source));
    if (!source)
      return send(response, 'unknown', started, {
        status: 404,
        outcome: 'not_found',
        body: { error: 'unknown source' },
      });
    const token = request.params.token as string | undefined;
    const pathFits =
      source.path === 'either' || (source.path === 'token') === (token !== undefined);
    if (!pathFits) {
      return send(response, source.source, started, {
        status: 404,
        outcome: 'not_found',
        body: { error: 'unknown source' },
      });
    }
    const rawBody = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const headers = headersOf(request);
    const verdict = await source.authenticate({ headers, pathToken: token, rawBody });
    if (verdict !== true) {
      if (typeof verdict === 'object' && 'unavailable' in verdict) {
        return send(response, source.source, started, {
          status: 503,
          outcome: 'unavailable',
          body: { error: verdict.unavailable },
          headers: { 'retry-after': String(deps.retryAfterSeconds ?? 5) },
        });
      }
      return send(response, source.source, started, {
        status: 401,
        outcome: 'unauthorized',
        body: {
          error: 'unauthorized',
          ...(typeof verdict === 'object' ? { message: verdict.refused } : {}),
        },
      });
    }
    const mediaType = mediaTypeOf(headers['content-type']);
    if (!source.mediaTypes.includes(mediaType)) {
      return send(response, source.source, started, {
        status: 415,
        outcome: 'unsupported_media_type',
        body: { error: `content-type must be one of ${source.mediaTypes.join(', ')}` },
      });
    }
    let body: unknown;
    try {
      body = parseBody(rawBody, mediaType);
    } catch (error) {
      return send(response, source.source, started, {
        status: 400,
        outcome: 'malformed',
        body: { error: (error as Error).message },
      });
    }
    const delivery: RawDelivery = { body, headers, receivedAt };
    const result = await deps.ingest.ingest(source.source, source.normalize, delivery);
    send(response, source.source, started, answerFor(result, deps.retryAfterSeconds ?? 5));
  };

  app.post(
    ['/webhooks/:source', '/webhooks/:source/:token'],
    express.raw({ type: () => true, limit: deps.bodyLimitBytes }),
    (request, response, next) => handle(request, response).catch(next),
  );
  app.use((_request: Request, response: Response) => {
    response.status(404).json({ error: 'not found' });
  });
  // Body-parser errors: too large, aborted, bad encoding.
  app.use(
    (
      error: { type?: string; status?: number; message?: string },
      request: Request,
      response: Response,
      _next: NextFunction,
    ) => {
      // Route params are gone in an app-level error handler: the source comes from the path.
      const named = /^\/webhooks\/([^/]+)/.exec(request.path)?.[1] ?? '';
      const source = bySource.has(named) ? named : 'unknown';
      const started = process.hrtime.bigint();
      if (error.type === 'entity.too.large') {
        return send(response, source, started, {
          status: 413,
          outcome: 'too_large',
          body: { error: `body larger than ${deps.bodyLimitBytes} bytes` },
        });
      }
      const status =
        error.status !== undefined && error.status >= 400 && error.status < 500
          ? error.status
          : 500;
      send(response, source, started, {
        status,
        outcome: 'malformed',
        body: { error: status === 500 ? 'internal error' : (error.message ?? 'bad request') },
      });
    },
  );
  return app;
}
