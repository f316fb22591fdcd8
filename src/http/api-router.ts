import express, { type NextFunction, type Request, type Response } from 'express';
import {
  ContainerVersionSpecSchema,
  type ContainerVersionStatus,
} from '../api/container-version.js';
import { cvState } from '../api/cv-state.js';
import type { EventView } from '../kube/event-reader.js';
import type { HistoryEntry, ObjectKey, StoredContainerVersion } from '../workers/ports.js';
import { REQUEST_ANNOTATION, requestRefusal } from '../workers/rollout-decision.js';
import { RollbackBodySchema } from './api-schemas.js';
import { buildOpenApiDocument } from './openapi.js';
import { opsRoleOfResponse } from './ops-auth.js';
import { memoizedSpecs, workloadRows, type WorkloadCacheView } from './workload-rows.js';

/** The CVs as an informer holds them, with their changes. */
export interface ContainerVersionSource {
  list(): StoredContainerVersion[];
  get(namespace: string, name: string): StoredContainerVersion | undefined;
  onChange(listener: (change: { object: StoredContainerVersion }) => void): () => void;
}

/** Writes what the API asks of a CV: merge patches of its annotations and `spec.suspend`. */
export interface ContainerVersionWriter {
  /** `null` when the CV does not exist. */
  patch(key: ObjectKey, body: object): Promise<StoredContainerVersion | null>;
}

/** A core/v1 Event as the API shows it (the Event reader's view). */
export type EventItem = EventView;

export interface ApiRouterDeps {
  cvs: ContainerVersionSource;
  workloads: WorkloadCacheView;
  writer: ContainerVersionWriter;
  history: { list(cv: ObjectKey): Promise<HistoryEntry[]> };
  events: { list(object: { kind: string; namespace: string; name: string }): Promise<EventItem[]> };
  /** Job counts per queue, for `GET /api/v1/queues`; absent: that route answers 404. */
  queues?: {
    stats(): Promise<
      {
        queue: string;
        waiting: number;
        active: number;
        delayed: number;
        failed: number;
        completed: number;
      }[]
    >;
  };
  /** Path of the queue board, shown beside the queue counts. */
  boardPath?: string;
  now?: () => Date;
  /** Longest wait of `?wait=true` for cvm to handle a request, ms; default 10 000. */
  requestWaitMs?: number;
}

/** Where the router is mounted on the ops port. */
export { API_PATH } from './ops-paths.js';

const HISTORY_PAGE_DEFAULT = 20;
const HISTORY_PAGE_MAX = 100;
/** Actions that become a `cvm.dev/request` annotation, handled by the rollout engine. */
const REQUEST_ACTIONS = ['sync', 'promote', 'resume-rollout', 'abort', 'retry'] as const;

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const notFound = (message: string) => new ApiError(404, 'not found', message);
const badRequest = (message: string) => new ApiError(400, 'bad request', message);
const conflict = (message: string) => new ApiError(409, 'conflict', message);

type Handler = (request: Request, response: Response) => Promise<void> | void;

/** Turns a thrown {@link ApiError} (or any failure) into the JSON error answer. */
const route =
  (handler: Handler) =>
  (request: Request, response: Response, next: NextFunction): void => {
    Promise.resolve(handler(request, response)).catch(next);
  };

/**
 * The REST API of the ops port (`/api/v1`, documented at `/api/v1/openapi.json`), mounted behind
 * `opsAuth`. Reads (`GET`) need the ops or the admin token and come from the informer caches
 * (history and Events are read from the API server on demand, for one CV). Actions (`POST`)
 * need the admin token (else 403) and act through the rollout engine: they write the CV's
 * `cvm.dev/request` annotation (sync, promote, resume-rollout, abort, retry, rollback) or
 * `spec.suspend` (suspend, resume), after the same checks the engine makes (409 with its
 * message when it would refuse). `?wait=true` on a request waits (up to `requestWaitMs`) for
 * `status.lastRequest` to show the outcome.
 */
export function createApiRouter(deps: ApiRouterDeps): express.Router {
  const router = express.Router();
  const now = deps.now ?? (() => new Date());
  // Built on the first request for it, not at start-up: most processes are never asked.
  let document: ReturnType<typeof buildOpenApiDocument> | undefined;
  const specOf = memoizedSpecs();
  router.use(express.json({ limit: '16kb' }));

  router.get('/openapi.json', (_request, response) => {
    response.json((document ??= buildOpenApiDocument()));
  });
  router.get('/workloads', (_request, response) => {
    response.json({ items: workloadRows(deps.cvs.list(), deps.workloads, specOf) });
  });
  router.get('/containerversions', (_request, response) => {
    response.json({ items: sortCvs(deps.cvs.list()).map(view) });
  });
  router.get(
    '/containerversions/:namespace/:name',
    route((request, response) => {
      response.json(view(cvOf(deps, request)));
    }),
  );
  router.get(
    '/containerversions/:namespace/:name/history',
    route(async (request, response) => {
      const cv = cvOf(deps, request);
      const limit = intParam(request, 'limit', HISTORY_PAGE_DEFAULT, 1, HISTORY_PAGE_MAX);
      const offset = intParam(request, 'continue', 0, 0, Number.MAX_SAFE_INTEGER);
      const entries = await deps.history.list(keyOf(cv));
      const items = entries.slice(offset, offset + limit);
      const next = offset + limit < entries.length ? String(offset + limit) : undefined;
      response.json({ items, ...(next ? { continue: next } : {}) });
    }),
  );
  router.get(
    '/containerversions/:namespace/:name/events',
    route(async (request, response) => {
      const cv = cvOf(deps, request);
      const items = await deps.events.list({ kind: 'ContainerVersion', ...keyOf(cv) });
      response.json({ items });
    }),
  );
  router.get(
    '/queues',
    route(async (_request, response) => {
      if (!deps.queues) throw notFound('this process has no queues to show');
      response.json({ items: await deps.queues.stats(), board: deps.boardPath ?? '' });
    }),
  );

  router.post('/containerversions/:namespace/:name/:action', (_request, response, next) => {
    if (opsRoleOfResponse(response) === 'admin') return next();
    response.status(403).json({
      error: 'forbidden',
      message: 'actions need the admin token (CVM_ADMIN_TOKEN); the ops token only reads',
    });
  });
  router.post(
    '/containerversions/:namespace/:name/suspend',
    route((request, response) => suspend(deps, request, response, true)),
  );
  router.post(
    '/containerversions/:namespace/:name/resume',
    route((request, response) => suspend(deps, request, response, false)),
  );
  router.post(
    '/containerversions/:namespace/:name/rollback',
    route(async (request, response) => {
      const cv = cvOf(deps, request);
      const body = parseRollbackBody(request.body);
      const entry = rollbackTarget(cv, await deps.history.list(keyOf(cv)), body);
      const failed = cv.status?.failedDigests?.includes(entry.digest) ?? false;
      if (failed && !body.force)
        throw conflict(
          `${entry.version} (${entry.digest}) is in failedDigests; send "force": true to roll back to it`,
        );
      const action = failed ? 'force-rollback' : 'rollback';
      await makeRequest(
        deps,
        cv,
        `${action}:${entry.digest}:${stamp(now())}`,
        request,
        response,
        now,
      );
    }),
  );
  router.post(
    '/containerversions/:namespace/:name/:action',
    route(async (request, response) => {
      const action = String(request.params.action);
      if (!(REQUEST_ACTIONS as readonly string[]).includes(action))
        throw notFound(
          `no action ${action}; use one of sync, suspend, resume, rollback, promote, resume-rollout, abort, retry`,
        );
      const cv = cvOf(deps, request);
      const verb = action === 'resume-rollout' ? 'resume' : action;
      await makeRequest(deps, cv, `${verb}:${stamp(now())}`, request, response, now);
    }),
  );

  router.use((_request: Request, response: Response) => {
    response.status(404).json({ error: 'not found', message: 'no such route in /api/v1' });
  });
  router.use((error: unknown, _request: Request, response: Response, _next: NextFunction) => {
    void _next;
    if (error instanceof ApiError)
      return void response.status(error.status).json({ error: error.code, message: error.message });
    const e = error as { type?: string; status?: number; message?: string };
    if (e.type === 'entity.parse.failed')
      return void response
        .status(400)
        .json({ error: 'bad request', message: 'the body is not valid JSON' });
    if (e.type === 'entity.too.large')
      return void response
        .status(413)
        .json({ error: 'too large', message: 'the body is larger than 16 KiB' });
    response.status(502).json({
      error: 'kubernetes',
      message: `the Kubernetes API did not answer as expected: ${e.message ?? String(error)}`,
    });
  });
  return router;
}

const keyOf = (cv: StoredContainerVersion): ObjectKey => ({
  namespace: cv.metadata.namespace,
  name: cv.metadata.name,
});

/** RFC 3339 to the millisecond: makes each request's annotation value new. */
const stamp = (d: Date) => d.toISOString();

function cvOf(deps: ApiRouterDeps, request: Request): StoredContainerVersion {
  const namespace = String(request.params.namespace);
  const name = String(request.params.name);
  const cv = deps.cvs.get(namespace, name);
  if (!cv) throw notFound(`ContainerVersion ${namespace}/${name} not found`);
  return cv;
}

function sortCvs(cvs: StoredContainerVersion[]): StoredContainerVersion[] {
  return [...cvs].sort(
    (a, b) =>
      a.metadata.namespace.localeCompare(b.metadata.namespace) ||
      a.metadata.name.localeCompare(b.metadata.name),
  );
}

/** The CV as the API shows it: the object as stored (without managedFields), with its state in one word. */
function view(cv: StoredContainerVersion) {
  const { managedFields: _managed, ...metadata } =
    cv.metadata as StoredContainerVersion['metadata'] & {
      managedFields?: unknown;
    };
  void _managed;
  return { ...cv, metadata, state: cvState(cv) };
}

function intParam(request: Request, name: string, fallback: number, min: number, max: number) {
  const raw = request.query[name];
  if (raw === undefined) return fallback;
  const value = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max)
    throw badRequest(`${name}: must be an integer from ${min} to ${max}`);
  return value;
}

function parseRollbackBody(body: unknown) {
  const parsed = RollbackBodySchema.safeParse(body ?? {});
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue?.path.join('.') || (issue?.code === 'unrecognized_keys' ? '' : 'body');
  const keys = issue && 'keys' in issue ? issue.keys.join(', ') : '';
  throw badRequest(
    issue?.code === 'unrecognized_keys'
      ? `${keys}: unknown field; give version, digest and/or force`
      : `${field}: ${issue?.message ?? 'invalid'}`,
  );
}

/**
 * The history entry a rollback goes to: the one with `digest`, the newest Succeeded one with
 * `version`, or (neither given) the newest Succeeded one that is not the current digest.
 */
function rollbackTarget(
  cv: StoredContainerVersion,
  history: HistoryEntry[],
  body: { version?: string | undefined; digest?: string | undefined },
): HistoryEntry {
  const where = `the history of ${cv.metadata.namespace}/${cv.metadata.name}`;
  if (body.digest) {
    const entry = history.find((e) => e.digest === body.digest);
    if (!entry) throw badRequest(`digest: ${body.digest} is not in ${where}`);
    return entry;
  }
  if (body.version) {
    const entry =
      history.find((e) => e.version === body.version && e.result === 'Succeeded') ??
      history.find((e) => e.version === body.version);
    if (!entry) throw badRequest(`version: ${body.version} is not in ${where}`);
    return entry;
  }
  const current = cv.status?.currentDigest;
  const entry = history.find((e) => e.result === 'Succeeded' && e.digest !== current);
  if (!entry) throw conflict(`no earlier good version in ${where} to roll back to`);
  return entry;
}

/** Checks a request as the engine would, writes the annotation, and (`?wait=true`) awaits its outcome. */
async function makeRequest(
  deps: ApiRouterDeps,
  cv: StoredContainerVersion,
  value: string,
  request: Request,
  response: Response,
  now: () => Date,
): Promise<void> {
  const parsed = ContainerVersionSpecSchema.safeParse(cv.spec);
  if (!parsed.success)
    throw conflict(
      `the spec of ${cv.metadata.namespace}/${cv.metadata.name} is invalid; its Ready condition says why`,
    );
  if (parsed.data.suspend)
    throw conflict(`${cv.metadata.namespace}/${cv.metadata.name} is suspended; resume it first`);
  const refused = requestRefusal(cv, parsed.data, value, now());
  if (refused) throw conflict(refused);
  const handled =
    request.query.wait === 'true' ? awaitRequest(deps, cv, value) : Promise.resolve(undefined);
  const written = await deps.writer.patch(keyOf(cv), {
    metadata: { annotations: { [REQUEST_ANNOTATION]: value } },
  });
  if (!written)
    throw notFound(`ContainerVersion ${cv.metadata.namespace}/${cv.metadata.name} not found`);
  const lastRequest = await handled;
  if (lastRequest)
    return void response
      .status(200)
      .json({ request: value, message: lastRequest.message, lastRequest });
  response.status(202).json({
    request: value,
    message: `requested; status.lastRequest shows the outcome once cvm handled it`,
  });
}

/** Resolves with `status.lastRequest` once the informer shows `value` handled; undefined after the wait. */
function awaitRequest(
  deps: ApiRouterDeps,
  cv: StoredContainerVersion,
  value: string,
): Promise<NonNullable<ContainerVersionStatus['lastRequest']> | undefined> {
  return new Promise((resolve) => {
    const { namespace, name } = cv.metadata;
    const done = (result: NonNullable<ContainerVersionStatus['lastRequest']> | undefined) => {
      clearTimeout(timer);
      unsubscribe();
      resolve(result);
    };
    const unsubscribe = deps.cvs.onChange(({ object }) => {
      if (object.metadata.namespace !== namespace || object.metadata.name !== name) return;
      if (object.status?.lastRequest?.value === value) done(object.status.lastRequest);
    });
    const timer = setTimeout(() => done(undefined), deps.requestWaitMs ?? 10_000);
    timer.unref();
  });
}

async function suspend(
  deps: ApiRouterDeps,
  request: Request,
  response: Response,
  suspend: boolean,
): Promise<void> {
  const cv = cvOf(deps, request);
  const written = await deps.writer.patch(keyOf(cv), { spec: { suspend } });
  if (!written)
    throw notFound(`ContainerVersion ${cv.metadata.namespace}/${cv.metadata.name} not found`);
  response.json({
    suspend,
    message: suspend
      ? 'suspended: cvm rolls out nothing for this CV until it is resumed'
      : 'resumed: cvm follows the tag again',
  });
}
