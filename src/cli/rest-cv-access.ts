import type { HistoryEntry, ObjectKey } from '../workers/ports.js';
import {
  AccessError,
  type CliContainerVersion,
  type ContainerVersionAccess,
  type CvEvent,
  type RequestAction,
  type RequestMade,
} from './cv-access.js';

export interface RestContainerVersionAccessOptions {
  /** Base URL of cvm's ops port, e.g. `https://cvm.example.com`. */
  server: string;
  /** Bearer token (`CVM_TOKEN`): reads need the ops or admin token, actions the admin token. */
  token?: string;
  /** Bound of every request, ms; default 10 000. */
  requestTimeoutMs?: number;
  /** Real ms between reads while watching (the REST API has no watch); default 1 000. */
  pollIntervalMs?: number;
  /** A watch that has failed for this long reports the error; default 30 000 ms. */
  watchFailureMs?: number;
}

const MAX_HISTORY_PAGES = 20;

/**
 * {@link ContainerVersionAccess} over cvm's REST API (`/api/v1/containerversions`), for CI
 * without cluster credentials. `watch` reads the CV every `pollIntervalMs` and reports it when
 * its resourceVersion moved. Replica counts are not part of the API, so progress shows the
 * rollout's phase and step only. Connection failures, 400, 401 and 403 throw a `usage`
 * {@link AccessError} (exit 2), 404 means no such CV, 409 (the engine would refuse the request
 * now, e.g. nothing in flight to promote) is a failure (exit 1) with the server's message.
 */
export class RestContainerVersionAccess implements ContainerVersionAccess {
  readonly endpoint: string;
  readonly defaultNamespace = 'default';
  private readonly base: string;

  constructor(private readonly options: RestContainerVersionAccessOptions) {
    let url: URL;
    try {
      url = new URL(options.server);
    } catch {
      throw new AccessError(
        `--server must be an http(s) URL, got ${JSON.stringify(options.server)}`,
        true,
      );
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new AccessError(
        `--server must be an http(s) URL, got ${JSON.stringify(options.server)}`,
        true,
      );
    this.endpoint = url.origin + url.pathname.replace(/\/+$/, '');
    this.base = `${this.endpoint}/api/v1/containerversions`;
  }

  async get(key: ObjectKey): Promise<CliContainerVersion | null> {
    const got = await this.send<CliContainerVersion>('GET', this.path(key), undefined, true);
    return got ?? null;
  }

  async list(namespace?: string): Promise<CliContainerVersion[]> {
    const got = await this.send<{ items: CliContainerVersion[] }>('GET', this.base);
    const items = got?.items ?? [];
    return namespace === undefined
      ? items
      : items.filter((cv) => cv.metadata.namespace === namespace);
  }

  async history(key: ObjectKey): Promise<HistoryEntry[]> {
    const entries: HistoryEntry[] = [];
    let next: string | undefined;
    for (let page = 0; page < MAX_HISTORY_PAGES; page++) {
      // The largest page the API gives: a history (at most 500 entries) in few requests.
      const query = `?limit=100${next ? `&continue=${encodeURIComponent(next)}` : ''}`;
      const got = await this.send<{ items: HistoryEntry[]; continue?: string }>(
        'GET',
        `${this.path(key)}/history${query}`,
      );
      entries.push(...(got?.items ?? []));
      next = got?.continue;
      if (!next) break;
    }
    return entries;
  }

  async events(key: ObjectKey): Promise<CvEvent[]> {
    return (await this.send<{ items: CvEvent[] }>('GET', `${this.path(key)}/events`))?.items ?? [];
  }

  async request(key: ObjectKey, action: RequestAction): Promise<RequestMade> {
    // `resume` of the REST API is spec.suspend's; a paused rollout's is resume-rollout.
    return this.action(key, action === 'resume' ? 'resume-rollout' : action, {});
  }

  async rollback(key: ObjectKey, digest: string, force: boolean): Promise<RequestMade> {
    return this.action(key, 'rollback', { digest, ...(force ? { force: true } : {}) });
  }

  async setSuspend(key: ObjectKey, suspend: boolean): Promise<RequestMade> {
    await this.action(key, suspend ? 'suspend' : 'resume', {});
    return { message: `spec.suspend set to ${suspend}` };
  }

  async watch(
    key: ObjectKey,
    onChange: (cv: CliContainerVersion | null) => void,
    onError: (error: Error) => void,
  ): Promise<() => Promise<void>> {
    const intervalMs = this.options.pollIntervalMs ?? 1_000;
    const failureMs = this.options.watchFailureMs ?? 30_000;
    let last: string | undefined;
    let failingSince: number | undefined;
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    const read = async () => {
      try {
        const cv = await this.get(key);
        failingSince = undefined;
        const version = cv ? (cv.metadata.resourceVersion ?? JSON.stringify(cv)) : 'gone';
        if (version !== last && !stopped) {
          last = version;
          onChange(cv);
        }
      } catch (error) {
        failingSince ??= Date.now();
        if (Date.now() - failingSince >= failureMs) onError(error as Error);
      }
      if (!stopped) timer = setTimeout(() => void read(), intervalMs);
    };
    await read();
    return () => {
      stopped = true;
      clearTimeout(timer);
      return Promise.resolve();
    };
  }

  private async action(key: ObjectKey, verb: string, body: object): Promise<RequestMade> {
    const got = await this.send<{ request?: string; message?: string; suspend?: boolean }>(
      'POST',
      `${this.path(key)}/${verb}`,
      body,
    );
    return {
      ...(got?.request ? { request: got.request } : {}),
      message: got?.message ?? (got?.request ? `requested ${got.request}` : verb),
    };
  }

  private path(key: ObjectKey): string {
    return `${this.base}/${encodeURIComponent(key.namespace)}/${encodeURIComponent(key.name)}`;
  }

  /** One request; `undefined` for a 404 when `missingOk`. */
  private async send<T>(
    method: 'GET' | 'POST',
    url: string,
    body?: object,
    missingOk = false,
  ): Promise<T | undefined> {
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: {
          accept: 'application/json',
          ...(body ? { 'content-type': 'application/json' } : {}),
          ...(this.options.token ? { authorization: `Bearer ${this.options.token}` } : {}),
        },
        ...(body ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(this.options.requestTimeoutMs ?? 10_000),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new AccessError(
        `cannot reach cvm at ${this.endpoint}: ${cause?.code ?? cause?.message ?? (error as Error).message}`,
        true,
      );
    }
    const text = await response.text();
    const parsed = parseJson(text);
    if (response.ok) return parsed as T;
    const message =
      (parsed as { message?: string; error?: string } | undefined)?.message ??
      (parsed as { error?: string } | undefined)?.error ??
      (text.slice(0, 200) || response.statusText);
    if (response.status === 404 && missingOk) return undefined;
    const what = `${method} ${new URL(url).pathname}: ${response.status} ${message}`;
    if (response.status === 401 || response.status === 403)
      throw new AccessError(`cvm at ${this.endpoint} refused the token (CVM_TOKEN): ${what}`, true);
    if (response.status === 404 || response.status === 400) throw new AccessError(what, true);
    throw new AccessError(what, false);
  }
}

function parseJson(text: string): unknown {
  try {
    return text === '' ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
}
