import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeApi } from './api.js';
import { StatusError, type KubeObject } from './contract.js';
import { discoveryDocument } from './discovery.js';
import { parseFieldSelector } from './field-selector.js';
import type { Faults } from './faults.js';
import { LabelSelectorError, parseLabelSelector } from './label-selector.js';
import { openApiV3GroupVersion, openApiV3Root } from './openapi.js';
import { decodeKubernetesProtobuf, PROTOBUF } from './protobuf/kubernetes-protobuf.js';
import type { Rbac } from './rbac/rbac.js';
import { requestAttributes } from './rbac/request-attributes.js';
import { parseRoute } from './routes.js';
import { notFound, statusBody, toStatusError, unsupportedMediaType } from './status-errors.js';
import type { MemoryStore } from './store.js';
import { answerAsTable, watchTablePresenter } from './table/table.js';
import { tableRequest } from './table/table-request.js';
import { serveWatch } from './watch.js';

/** One request as the emulator saw it, for tests that judge what a client sent. */
export interface RequestRecord {
  method: string;
  /** Path without the query string. */
  path: string;
  /** The query string without `?` (empty when none). */
  query: string;
  contentType?: string;
  /** The body as text; a protobuf body as the JSON it decoded to. */
  body: string;
  /** HTTP status answered; 0 while a watch or hang is still open. */
  status: number;
}

export interface ApiServerOptions {
  store: MemoryStore;
  faults: Faults;
  requests: RequestRecord[];
  /** Real milliseconds between BOOKMARK events on watches that allow them. */
  bookmarkIntervalMs: number;
  /** Emulated now in milliseconds (AGE columns of Table answers). */
  now: () => number;
  /** Authenticates ServiceAccount tokens and authorizes their requests (the admin may do anything). */
  rbac: Rbac;
}

export interface RunningServer {
  url: string;
  port: number;
  /** Ends every open watch stream, as an apiserver restart or watch timeout would. */
  closeWatches(): void;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function mediaTypeOf(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0]?.trim() ?? '';
}

function sendJson(
  res: ServerResponse,
  record: RequestRecord,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  record.status = status;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

function sendError(
  res: ServerResponse,
  record: RequestRecord,
  error: StatusError,
  headers: Record<string, string> = {},
): void {
  sendJson(res, record, error.code, statusBody(error), headers);
}

/** The Kubernetes REST API over node:http on 127.0.0.1. */
export async function startApiServer(
  port: number,
  options: ApiServerOptions,
): Promise<RunningServer> {
  const { store, faults, requests } = options;
  const api = new KubeApi(store);
  const watches = new Set<() => void>();
  const hung = new Set<ServerResponse>();
  let serverAddress = '127.0.0.1';

  const handle = async (
    req: IncomingMessage,
    res: ServerResponse,
    ctx: { record?: RequestRecord },
  ): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const method = (req.method ?? 'GET').toUpperCase();
    const raw = await readBody(req);
    const protobuf = (method === 'POST' || method === 'PUT') && mediaTypeOf(req) === PROTOBUF;
    let body = protobuf ? '' : raw.toString('utf8');
    const record: RequestRecord = {
      method,
      path: url.pathname,
      query: url.search.replace(/^\?/, ''),
      ...(req.headers['content-type'] ? { contentType: req.headers['content-type'] } : {}),
      body,
      status: 0,
    };
    requests.push(record);
    ctx.record = record;
    if (protobuf && raw.length > 0) {
      body = JSON.stringify(decodeKubernetesProtobuf(raw));
      record.body = body;
    }
    const isNamespaceSubresource = (segment: string) =>
      segment === 'status' || segment === 'finalize';
    const impersonateUser = req.headers['impersonate-user'];
    options.rbac.check(
      {
        ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
        ...(typeof impersonateUser === 'string' ? { impersonateUser } : {}),
      },
      requestAttributes(method, parseRoute(url.pathname, isNamespaceSubresource), url.searchParams),
    );
    const latency = faults.latencyMs();
    if (latency > 0) await new Promise((r) => setTimeout(r, latency));
    const fault = faults.match(method, `${url.pathname}${url.search}`);
    if (fault?.kind === 'hang') {
      hung.add(res);
      res.on('close', () => hung.delete(res));
      return;
    }
    if (fault?.kind === 'fail') {
      const headers: Record<string, string> =
        fault.retryAfterSeconds !== undefined
          ? { 'Retry-After': String(fault.retryAfterSeconds) }
          : {};
      sendError(res, record, fault.error, headers);
      return;
    }
    if (url.pathname === '/openapi/v3' || url.pathname.startsWith('/openapi/v3/')) {
      const rest = url.pathname.slice('/openapi/v3/'.length);
      const doc =
        url.pathname === '/openapi/v3'
          ? openApiV3Root(store.registry)
          : openApiV3GroupVersion(store.registry, rest);
      if (doc) sendJson(res, record, 200, doc);
      else
        sendError(
          res,
          record,
          new StatusError(404, 'NotFound', 'the server could not find the requested resource'),
        );
      return;
    }
    const route = parseRoute(url.pathname, isNamespaceSubresource);
    if (route.kind === 'discovery') {
      const doc =
        method === 'GET' ? discoveryDocument(store.registry, route.path, serverAddress) : undefined;
      if (doc) sendJson(res, record, 200, doc);
      else
        sendError(
          res,
          record,
          new StatusError(404, 'NotFound', 'the server could not find the requested resource'),
        );
      return;
    }
    const type =
      route.kind === 'resource'
        ? store.registry.find(route.group, route.version, route.plural)
        : undefined;
    if (route.kind !== 'resource' || !type) {
      sendError(
        res,
        record,
        new StatusError(404, 'NotFound', 'the server could not find the requested resource'),
      );
      return;
    }
    const namespace = type.namespaced ? route.namespace : undefined;
    const table =
      method === 'GET' && route.subresource === undefined
        ? tableRequest(req.headers.accept, url.searchParams)
        : undefined;
    const watch = ['1', 'true'].includes(url.searchParams.get('watch') ?? '');
    if (watch && method === 'GET' && route.name === undefined) {
      let labels;
      try {
        labels = parseLabelSelector(url.searchParams.get('labelSelector') ?? '');
      } catch (error) {
        if (error instanceof LabelSelectorError)
          throw new StatusError(400, 'BadRequest', error.message);
        throw error;
      }
      record.status = 200;
      const timeout = url.searchParams.get('timeoutSeconds');
      const rv = url.searchParams.get('resourceVersion');
      const stop = serveWatch(
        store,
        {
          type,
          ...(namespace !== undefined ? { namespace } : {}),
          labels,
          fields: parseFieldSelector(url.searchParams.get('fieldSelector') ?? undefined),
          ...(rv !== null ? { resourceVersion: rv } : {}),
          allowWatchBookmarks: ['1', 'true'].includes(
            url.searchParams.get('allowWatchBookmarks') ?? '',
          ),
          ...(timeout !== null ? { timeoutSeconds: Number(timeout) } : {}),
          bookmarkIntervalMs: options.bookmarkIntervalMs,
          present: table
            ? watchTablePresenter(type, table, options.now)
            : (o) => api.present(type, o),
        },
        res,
      );
      watches.add(stop);
      res.on('close', () => watches.delete(stop));
      return;
    }
    if (type.namespaced && route.namespace === undefined && route.name !== undefined) {
      throw notFound(type, route.name);
    }
    const bodyType = mediaTypeOf(req);
    if (
      (method === 'POST' || method === 'PUT') &&
      body !== '' &&
      !protobuf &&
      bodyType !== 'application/json' &&
      bodyType !== ''
    ) {
      throw unsupportedMediaType(['application/json']);
    }
    const result = api.handle({
      method,
      type,
      ...(namespace !== undefined ? { namespace } : {}),
      ...(route.name !== undefined ? { name: route.name } : {}),
      ...(route.subresource !== undefined ? { subresource: route.subresource } : {}),
      query: url.searchParams,
      body,
      ...(req.headers['content-type'] ? { contentType: req.headers['content-type'] } : {}),
    });
    const answer =
      table && result.status === 200
        ? answerAsTable(type, result.body as KubeObject, table, options.now())
        : result.body;
    sendJson(res, record, result.status, answer);
  };

  const server: Server = createServer((req, res) => {
    const ctx: { record?: RequestRecord } = {};
    handle(req, res, ctx).catch((error: unknown) => {
      const record = ctx.record;
      if (res.headersSent) {
        res.end();
        return;
      }
      const status = toStatusError(error);
      if (status.code === 500) console.error('kube-emulator: internal error', error);
      sendError(res, record ?? { method: '', path: '', query: '', body: '', status: 0 }, status);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const actualPort = (server.address() as AddressInfo).port;
  serverAddress = `127.0.0.1:${actualPort}`;
  return {
    url: `http://127.0.0.1:${actualPort}`,
    port: actualPort,
    closeWatches: () => {
      for (const stop of [...watches]) stop();
    },
    close: async () => {
      for (const stop of [...watches]) stop();
      for (const res of [...hung]) res.destroy();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
