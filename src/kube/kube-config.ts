import { createHash } from 'node:crypto';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import {
  createConfiguration,
  IsomorphicFetchHttpLibrary,
  KubeConfig,
  Observable,
  ResponseContext,
  ServerConfiguration,
  type ApiConstructor,
  type ApiType,
  type HttpLibrary,
  type RequestContext,
} from '@kubernetes/client-node';

/**
 * Loads the Kubernetes client configuration, in this order:
 *
 * 1. `kubeconfigPath` (config key `CVM_KUBECONFIG`) when given;
 * 2. the in-cluster service account when `KUBERNETES_SERVICE_HOST` is set (token re-read by
 *    client-node at most every 60 s, so projected-token rotation works);
 * 3. client-node's `loadFromDefault()` (`$KUBECONFIG`, `~/.kube/config`, then `http://localhost:8080`).
 *
 * client-node 1.4 refuses every request to an `http://` server unless the cluster has
 * `skipTLSVerify` (libraries.md §1.1), although there is no TLS to verify. Such clusters get
 * `skipTLSVerify: true` here, so a plain-HTTP API server (the emulator, `kubectl proxy`) works.
 * `https://` clusters are left exactly as configured.
 *
 * The generated API clients reuse their connections ({@link reuseConnections}).
 *
 * Throws when the file cannot be read or parsed; it does not contact the API server.
 */
export function loadKubeConfig(
  kubeconfigPath?: string,
  env: NodeJS.ProcessEnv = process.env,
  requestTimeoutMs?: number,
): KubeConfig {
  const kubeConfig = new KubeConfig();
  if (kubeconfigPath !== undefined && kubeconfigPath !== '') {
    kubeConfig.loadFromFile(kubeconfigPath);
  } else if (env.KUBERNETES_SERVICE_HOST) {
    kubeConfig.loadFromCluster();
  } else {
    kubeConfig.loadFromDefault();
  }
  allowPlainHttp(kubeConfig);
  reuseConnections(kubeConfig);
  return requestTimeoutMs === undefined
    ? kubeConfig
    : withRequestTimeout(kubeConfig, requestTimeoutMs);
}

/**
 * Bounds every request the generated API clients send with this config (`makeApiClient`): it is
 * aborted after `timeoutMs` and fails as a transient `AbortError`, so a half-open connection or a
 * hung API server cannot wedge a caller. The bound covers the response's body too, and its timer
 * is cleared once the body is read: an `AbortSignal.timeout` per request would keep a timer (and
 * a signal) alive for `timeoutMs` after every answer, 100,000 of them in a first sync of 10,000
 * CVs. Watches (client-node's `Watch`) are not affected: they are long by design and do not go
 * through `makeApiClient`. Returns the same instance.
 */
export function withRequestTimeout(kubeConfig: KubeConfig, timeoutMs: number): KubeConfig {
  const httpApi = new TimedHttpLibrary(timeoutMs);
  kubeConfig.makeApiClient = <T extends ApiType>(apiClientType: ApiConstructor<T>): T => {
    const cluster = kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error('No active cluster!');
    return new apiClientType(
      createConfiguration({
        baseServer: new ServerConfiguration(cluster.server, {}),
        authMethods: { default: kubeConfig },
        httpApi,
      }),
    );
  };
  return kubeConfig;
}

/** client-node's fetch-based HTTP library, each request bounded by a timer it clears when done. */
class TimedHttpLibrary implements HttpLibrary {
  readonly #fetch = new IsomorphicFetchHttpLibrary();

  constructor(private readonly timeoutMs: number) {}

  send(request: RequestContext): Observable<ResponseContext> {
    if (request.getSignal()) return this.#fetch.send(request);
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.timeoutMs);
    timer.unref();
    const done = () => clearTimeout(timer);
    request.setSignal(controller.signal);
    return new Observable(
      this.#fetch
        .send(request)
        .toPromise()
        .then(
          (response) =>
            new ResponseContext(response.httpStatusCode, response.headers, {
              text: () => response.body.text().finally(done),
              binary: () => response.body.binary().finally(done),
            }),
          (error: unknown) => {
            done();
            throw error;
          },
        ),
    );
  }
}

/** Agents kept per distinct set of TLS options (a rotated client certificate makes another). */
const MAX_AGENTS = 4;

/**
 * Makes the generated API clients (`makeApiClient`) send their requests over kept-alive
 * connections. client-node 1.4 makes a new `http.Agent`/`https.Agent` for every request, without
 * keep-alive, so each request opens a TCP connection (and a TLS handshake). Here the agent it
 * made is swapped for a kept-alive one with the same options, one per distinct set of options
 * (server, CA, client certificate and key, verification), the least recent dropped past
 * {@link MAX_AGENTS}. Proxy agents and watches (which do not go through this hook) are left alone.
 * Returns the same instance.
 */
export function reuseConnections(kubeConfig: KubeConfig): KubeConfig {
  const authenticate = kubeConfig.applySecurityAuthentication.bind(kubeConfig);
  const agents = new Map<string, HttpAgent>();
  let last:
    | {
        Kind: typeof HttpAgent;
        server: string | undefined;
        options: Record<string, unknown>;
        agent: HttpAgent;
      }
    | undefined;
  kubeConfig.applySecurityAuthentication = async (context) => {
    await authenticate(context);
    const made = context.getAgent();
    // Exactly client-node's own agents: a proxy agent subclasses them and keeps its own ways.
    const Kind =
      made?.constructor === HttpAgent
        ? HttpAgent
        : made?.constructor === HttpsAgent
          ? HttpsAgent
          : undefined;
    if (!made || !Kind) return;
    const options = (made as HttpAgent & { options: Record<string, unknown> }).options;
    const server = kubeConfig.getCurrentCluster()?.server;
    // Nearly every request brings the same options (the same strings): the agent of the last one
    // is reused without hashing them again (a sha256 of the PEMs per request, measured in the bench).
    if (
      last &&
      last.Kind === Kind &&
      last.server === server &&
      sameOptions(last.options, options)
    ) {
      context.setAgent(last.agent);
      return;
    }
    const key = createHash('sha256')
      .update(JSON.stringify([Kind.name, server, options]))
      .digest('hex');
    let agent = agents.get(key);
    if (agent) {
      agents.delete(key);
    } else {
      agent = new Kind({ ...options, keepAlive: true });
      for (const [oldKey, old] of agents) {
        if (agents.size < MAX_AGENTS) break;
        agents.delete(oldKey);
        old.destroy();
      }
    }
    agents.set(key, agent);
    last = { Kind, server, options, agent };
    context.setAgent(agent);
  };
  return kubeConfig;
}

/** The same option names with the same values (`===`: the same strings, numbers, booleans, objects). */
function sameOptions(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((k) => Object.hasOwn(b, k) && a[k] === b[k]);
}

/** Sets `skipTLSVerify` on every `http://` cluster (see {@link loadKubeConfig}); returns the same instance. */
export function allowPlainHttp(kubeConfig: KubeConfig): KubeConfig {
  const needsFix = kubeConfig.clusters.some(
    (c) => c.server.startsWith('http://') && !c.skipTLSVerify,
  );
  if (!needsFix) return kubeConfig;
  kubeConfig.loadFromOptions({
    clusters: kubeConfig.clusters.map((c) =>
      c.server.startsWith('http://') ? { ...c, skipTLSVerify: true } : c,
    ),
    users: kubeConfig.users,
    contexts: kubeConfig.contexts,
    currentContext: kubeConfig.currentContext,
  });
  return kubeConfig;
}
