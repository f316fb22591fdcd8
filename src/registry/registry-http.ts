import {
  RateLimitedError,
  RegistryAuthError,
  RegistryError,
  type RegistryCredentials,
} from './registry-client.js';
import { keptAliveHead } from './head-request.js';
import { parseRetryAfterMs } from './retry-after.js';
import { parseChallenge, type AuthChallenge } from './www-authenticate.js';

/** How one HTTP request to a registry (or its token service) ended, for metrics. */
export type RequestOutcome =
  | 'ok'
  /** 401 with a challenge, answered by authenticating and asking again. */
  | 'challenged'
  | 'not_found'
  | 'auth_failed'
  | 'rate_limited'
  | 'server_error'
  | 'client_error'
  | 'network_error';

export interface RegistryHttpOptions {
  /** Credentials for a registry host as written in image refs (`docker.io`, `ghcr.io`). Default: none, anonymous. */
  credentials?: (registryHost: string) => RegistryCredentials | undefined;
  /** Hosts (with or without port) spoken to over plain http; `localhost`, `127.0.0.1` and `[::1]` always are. Default `[]`. */
  insecureHosts?: readonly string[];
  /** Timeout of each request, including token requests. Default 10 000 ms. */
  timeoutMs?: number;
  /** The fetch to use. Default: Node's global fetch, with HEADs over kept-alive connections ({@link keptAliveHead}). */
  fetch?: typeof fetch;
  /** Called once per HTTP request sent, e.g. to count them in Prometheus. Default: nothing. */
  onRequest?: (host: string, method: string, outcome: RequestOutcome) => void;
  /** Clock for token expiry, ms since the epoch. Default `Date.now`. */
  now?: () => number;
}

export interface RegistryRequest {
  method: 'GET' | 'HEAD' | 'PUT';
  /** Registry host as in image refs (`docker.io`); mapped to the API host here. */
  registry: string;
  /** Path and query below the host, e.g. `/v2/library/nginx/manifests/1.27`. */
  path: string;
  /** Repository, for the bearer scope `repository:<name>:pull` (`:pull,push` when `push`). */
  repository: string;
  accept?: string;
  /** The request writes (a manifest PUT): tokens are asked for with the push scope. Default false. */
  push?: boolean;
  /** Body of a PUT, sent again as is when the registry challenges the first attempt. */
  body?: Buffer;
  /** Content-Type of `body`. */
  contentType?: string;
}

const DEFAULT_TIMEOUT_MS = 10_000;
/** `expires_in` when the token service does not say (distribution token spec). */
const DEFAULT_TOKEN_SECONDS = 60;
const TOKEN_MARGIN_MS = 10_000;
const ALWAYS_INSECURE = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Docker Hub serves the API under another name than the one in image refs. */
export function apiHost(registry: string): string {
  return registry === 'docker.io' || registry === 'index.docker.io'
    ? 'registry-1.docker.io'
    : registry;
}

const hostname = (host: string) =>
  host.startsWith('[') ? host.replace(/\](:\d+)?$/, ']') : host.replace(/:\d+$/, '');

interface CachedToken {
  token: string;
  expiresAtMs: number;
}

/**
 * HTTP to a Distribution v2 registry: scheme choice, Docker Hub host mapping, the bearer-token
 * flow with a token cache per (realm, service, scope), Basic auth, timeouts, and turning failures
 * into `RegistryError`s that say what happens next. 404 is returned to the caller, which knows
 * whether it means "no such tag" or "no such image".
 */
export class RegistryHttp {
  readonly #fetch: typeof fetch;
  readonly #timeoutMs: number;
  readonly #insecure: Set<string>;
  readonly #now: () => number;
  readonly #tokens = new Map<string, CachedToken>();
  /** The last challenge each registry host answered with, to authenticate up front next time. */
  readonly #challenges = new Map<string, AuthChallenge>();

  constructor(readonly options: RegistryHttpOptions = {}) {
    this.#fetch = options.fetch ?? keptAliveHead((input, init) => fetch(input, init));
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#insecure = new Set(options.insecureHosts ?? []);
    this.#now = options.now ?? Date.now;
  }

  /** Base URL of the registry's API, `http://` for local and insecure hosts. */
  baseUrl(registry: string): string {
    const host = apiHost(registry);
    const plain =
      ALWAYS_INSECURE.has(hostname(host)) ||
      this.#insecure.has(host) ||
      this.#insecure.has(registry);
    return `${plain ? 'http' : 'https'}://${host}`;
  }

  /**
   * Sends the request, authenticating when the registry challenges. Resolves with 2xx and 404
   * responses (the body unread). @throws RateLimitedError on 429, RegistryAuthError when
   * credentials are missing or refused, RegistryError (transient) on 5xx, network errors and
   * timeouts, RegistryError (permanent) on other 4xx.
   */
  async send(request: RegistryRequest): Promise<Response> {
    const url = `${this.baseUrl(request.registry)}${request.path}`;
    const scope = `repository:${request.repository}:${request.push ? 'pull,push' : 'pull'}`;
    let authorization = this.#cachedAuthorization(request.registry, scope);
    let renewed = false;
    for (;;) {
      const response = await this.#fetchOnce(request.method, url, request.accept, authorization, {
        ...(request.body ? { body: request.body } : {}),
        ...(request.contentType ? { contentType: request.contentType } : {}),
      });
      if (response.status !== 401 || renewed) {
        return this.#judge(response, request, renewed || authorization !== undefined);
      }
      await response.body?.cancel();
      this.options.onRequest?.(apiHost(request.registry), request.method, 'challenged');
      const challenge = parseChallenge(response.headers.get('www-authenticate'));
      if (!challenge)
        throw new RegistryAuthError(`${request.registry} answered 401 without a challenge`);
      this.#challenges.set(request.registry, challenge);
      authorization = await this.#authorize(request.registry, challenge, scope);
      renewed = true;
    }
  }

  async #fetchOnce(
    method: string,
    url: string,
    accept: string | undefined,
    authorization: string | undefined,
    payload: { body?: Buffer; contentType?: string } = {},
  ): Promise<Response> {
    const headers: Record<string, string> = {};
    if (accept) headers.accept = accept;
    if (authorization) headers.authorization = authorization;
    if (payload.contentType) headers['content-type'] = payload.contentType;
    const host = new URL(url).host;
    try {
      return await this.#fetch(url, {
        method,
        headers,
        ...(payload.body ? { body: new Uint8Array(payload.body) } : {}),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      this.options.onRequest?.(host, method, 'network_error');
      const what =
        error instanceof Error && error.name === 'TimeoutError'
          ? `timed out after ${this.#timeoutMs} ms`
          : 'failed';
      throw new RegistryError(`${method} ${url} ${what}`, true, { cause: error });
    }
  }

  async #judge(
    response: Response,
    request: RegistryRequest,
    authenticated: boolean,
  ): Promise<Response> {
    const { method, registry } = request;
    const host = apiHost(registry);
    const outcome = outcomeOf(response.status);
    this.options.onRequest?.(host, method, outcome);
    if (outcome === 'ok' || outcome === 'not_found') return response;
    const detail = await errorDetail(response);
    const what = `${method} ${request.path} on ${registry}: ${response.status}${detail}`;
    if (outcome === 'rate_limited') {
      throw new RateLimitedError(
        what,
        parseRetryAfterMs(response.headers.get('retry-after'), this.#now()),
      );
    }
    if (outcome === 'auth_failed') {
      // An anonymous bearer token is "authenticated" too, but nobody configured anything.
      const hint =
        authenticated && this.options.credentials?.(registry)
          ? 'credentials refused'
          : 'no credentials';
      throw new RegistryAuthError(`${what} (${hint})`);
    }
    throw new RegistryError(what, outcome === 'server_error');
  }

  #cachedAuthorization(registry: string, scope: string): string | undefined {
    const challenge = this.#challenges.get(registry);
    if (!challenge) return undefined;
    if (challenge.scheme === 'basic') return this.#basic(registry);
    const cached = this.#tokens.get(tokenKey(challenge, scope));
    return cached && cached.expiresAtMs > this.#now() ? `Bearer ${cached.token}` : undefined;
  }

  #basic(registry: string): string | undefined {
    const credentials = this.options.credentials?.(registry);
    if (!credentials) return undefined;
    return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
  }

  async #authorize(
    registry: string,
    challenge: AuthChallenge,
    fallbackScope: string,
  ): Promise<string> {
    if (challenge.scheme === 'basic') {
      const basic = this.#basic(registry);
      if (!basic)
        throw new RegistryAuthError(
          `${registry} asks for Basic auth and no credentials are configured`,
        );
      return basic;
    }
    if (challenge.scheme !== 'bearer') {
      throw new RegistryAuthError(
        `${registry} asks for unsupported auth scheme ${challenge.scheme}`,
      );
    }
    const offered = challenge.params.scope;
    // A write needs push: a challenge that offers less (or nothing) gets our own scope.
    const scope =
      offered === undefined || (fallbackScope.endsWith(',push') && !/\bpush\b/.test(offered))
        ? fallbackScope
        : offered;
    const token = await this.#fetchToken(registry, challenge, scope);
    this.#tokens.set(tokenKey(challenge, fallbackScope), token);
    this.#tokens.set(tokenKey(challenge, scope), token);
    return `Bearer ${token.token}`;
  }

  async #fetchToken(
    registry: string,
    challenge: AuthChallenge,
    scope: string,
  ): Promise<CachedToken> {
    const realm = challenge.params.realm;
    if (!realm) throw new RegistryAuthError(`${registry} sent a Bearer challenge without a realm`);
    const url = new URL(realm);
    if (challenge.params.service) url.searchParams.set('service', challenge.params.service);
    for (const one of scope.split(' ')) if (one) url.searchParams.append('scope', one);
    const basic = this.#basic(registry);
    const response = await this.#fetchOnce('GET', url.toString(), 'application/json', basic);
    const outcome = outcomeOf(response.status);
    this.options.onRequest?.(url.host, 'GET', outcome);
    if (outcome !== 'ok') {
      const detail = await errorDetail(response);
      const what = `token request to ${url.origin}${url.pathname} for ${registry}: ${response.status}${detail}`;
      if (outcome === 'rate_limited') {
        throw new RateLimitedError(
          what,
          parseRetryAfterMs(response.headers.get('retry-after'), this.#now()),
        );
      }
      if (outcome === 'server_error') throw new RegistryError(what, true);
      throw new RegistryAuthError(
        `${what} (${basic ? 'credentials refused' : 'anonymous access refused'})`,
      );
    }
    const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
    const token = typeof body.token === 'string' ? body.token : body.access_token;
    if (typeof token !== 'string' || token === '') {
      throw new RegistryAuthError(
        `token service ${url.origin} for ${registry} answered without a token`,
      );
    }
    const expiresInMs =
      (typeof body.expires_in === 'number' && body.expires_in > 0
        ? body.expires_in
        : DEFAULT_TOKEN_SECONDS) * 1000;
    const marginMs = Math.min(TOKEN_MARGIN_MS, expiresInMs / 2);
    return { token, expiresAtMs: this.#now() + expiresInMs - marginMs };
  }
}

const tokenKey = (challenge: AuthChallenge, scope: string) =>
  `${challenge.params.realm ?? ''} ${challenge.params.service ?? ''} ${scope}`;

function outcomeOf(status: number): RequestOutcome {
  if (status >= 200 && status < 300) return 'ok';
  if (status === 404) return 'not_found';
  if (status === 401 || status === 403) return 'auth_failed';
  if (status === 429) return 'rate_limited';
  if (status >= 500) return 'server_error';
  return 'client_error';
}

/** `: CODE message` from a Distribution error body, or the start of a plain-text one. */
async function errorDetail(response: Response): Promise<string> {
  const text = (await response.text().catch(() => '')).trim();
  if (!text) return '';
  try {
    const parsed = JSON.parse(text) as { errors?: { code?: string; message?: string }[] };
    const first = parsed.errors?.[0];
    if (first) return ` ${first.code ?? 'UNKNOWN'} ${first.message ?? ''}`.trimEnd();
  } catch {
    // plain text (Docker Hub's 429)
  }
  return ` ${text.slice(0, 200)}`;
}
