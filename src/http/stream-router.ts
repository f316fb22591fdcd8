import express, { type Request, type Response } from 'express';
import type { Runnable } from '../lifecycle/runnable.js';

/** Where the ops port serves the change stream (behind `opsAuth`). */
export const STREAM_PATH = '/api/v1/stream';

/** Something that calls its listeners on every change; the function it returns unsubscribes. */
export interface ChangeSource<T> {
  onChange(listener: (change: T) => void): () => void;
}

/** What the stream needs of a ContainerVersion change (the informer's `ContainerVersionChange`). */
export interface CvChange {
  type: 'add' | 'update' | 'delete';
  object: { metadata: { namespace?: string; name?: string; resourceVersion?: string } };
}

/** What the stream needs of a workload watch event (the watcher's `WorkloadSignal`). */
export interface WorkloadChange {
  kind: string;
  namespace: string;
  name: string;
  deleted: boolean;
}

export interface ChangeStreamOptions {
  /** ContainerVersion changes (the informer, `kube.index`); each is sent at once as a `cv` event. */
  containerVersions?: ChangeSource<CvChange>;
  /** Workload changes (`kube.signals`); batched into `workloads` events, see below. */
  workloads?: ChangeSource<WorkloadChange>;
  /** Most `workloads` events per second per client (changes in between are merged); default 4. */
  workloadEventsPerSecond?: number;
  /** Interval of the heartbeat comment that keeps proxies from closing an idle stream, ms; default 15 000. */
  heartbeatMs?: number;
}

const frame = (event: string, data: unknown) =>
  `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

/** One open stream: its response and what it must release on close. */
interface Client {
  response: Response;
  close(): void;
}

/**
 * Server-sent events of what changes in the cluster, for the dashboard (`GET /api/v1/stream`,
 * `text/event-stream`):
 *
 * - `hello` `{ at }` once the stream is open;
 * - `cv` `{ type, namespace, name, resourceVersion }` for every ContainerVersion added, updated or
 *   deleted;
 * - `workloads` `{ changed: [{ kind, namespace, name, deleted }] }`, at most
 *   `workloadEventsPerSecond` per client, each listing the workloads changed since the last one
 *   (once each): a rollout's many watch events do not flood a phone;
 * - a `: heartbeat` comment every `heartbeatMs`; `retry: 2000` tells the browser to reconnect
 *   after 2 s when the stream breaks.
 *
 * Events carry identity, not objects: the page reads what it shows from the REST API, behind the
 * same auth. `stop()` ends every open stream (so the ops server's drain does not wait for them) and
 * answers 503 to new ones; it is idempotent.
 */
export class ChangeStream implements Runnable {
  readonly name = 'change-stream';
  private readonly clients = new Set<Client>();
  private stopped = false;

  constructor(private readonly options: ChangeStreamOptions) {}

  start(): Promise<void> {
    return Promise.resolve();
  }

  stop(): Promise<void> {
    this.stopped = true;
    for (const client of [...this.clients]) client.close();
    return Promise.resolve();
  }

  /** Open streams, for tests and metrics. */
  get size(): number {
    return this.clients.size;
  }

  /** The router answering `GET /` with the stream; mount it at {@link STREAM_PATH} behind auth. */
  router(): express.Router {
    const router = express.Router();
    router.get('/', (request: Request, response: Response) => this.open(request, response));
    return router;
  }

  private open(request: Request, response: Response): void {
    if (this.stopped)
      return void response.status(503).json({ error: 'stopping', message: 'cvm is stopping' });
    response.status(200).set({
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    response.flushHeaders();
    response.write(`retry: 2000\n${frame('hello', { at: new Date().toISOString() })}`);
    const cleanups: (() => void)[] = [];
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      for (const cleanup of cleanups) cleanup();
      this.clients.delete(client);
      response.end();
    };
    const client: Client = { response, close };
    this.clients.add(client);
    request.on('close', close);
    response.on('error', close);

    const heartbeat = setInterval(
      () => response.write(': heartbeat\n\n'),
      this.options.heartbeatMs ?? 15_000,
    );
    heartbeat.unref();
    cleanups.push(() => clearInterval(heartbeat));

    const cvs = this.options.containerVersions;
    if (cvs)
      cleanups.push(
        cvs.onChange((change) => {
          const { namespace = '', name = '', resourceVersion } = change.object.metadata;
          response.write(frame('cv', { type: change.type, namespace, name, resourceVersion }));
        }),
      );
    const workloads = this.options.workloads;
    if (workloads) {
      const intervalMs = 1000 / (this.options.workloadEventsPerSecond ?? 4);
      const pending = new Map<string, WorkloadChange>();
      let lastSentAt = 0;
      let flushTimer: NodeJS.Timeout | undefined;
      cleanups.push(() => clearTimeout(flushTimer));
      const flush = () => {
        flushTimer = undefined;
        lastSentAt = Date.now();
        const changed = [...pending.values()];
        pending.clear();
        if (!closed && changed.length > 0) response.write(frame('workloads', { changed }));
      };
      cleanups.push(
        workloads.onChange((change) => {
          const { kind, namespace, name, deleted } = change;
          pending.set(`${kind}/${namespace}/${name}`, { kind, namespace, name, deleted });
          if (flushTimer) return;
          flushTimer = setTimeout(flush, Math.max(0, lastSentAt + intervalMs - Date.now()));
        }),
      );
    }
  }
}
