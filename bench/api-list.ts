// Benchmark "REST API lists" (issue 11): with 500 ContainerVersions and their Deployments in the
// Kubernetes emulator, the p50 and p99 of `GET /api/v1/workloads` and `GET /api/v1/containerversions`
// on the ops port (answered from the informer caches), beside `GET /healthz` on the same server
// (the HTTP floor), measured in the same run. Target: each list under 50 ms.
import { fileURLToPath } from 'node:url';
import { createOpsApp } from '../src/http/ops-app.js';
import { createKubeAdapters } from '../src/kube/kube-adapters.js';
import { HttpServer } from '../src/lifecycle/http-server.js';
import { createLogger } from '../src/observability/logger.js';
import { Metrics } from '../src/observability/metrics.js';
import { kubectl } from '../test/kube-emulator/controllers/kubectl.js';
import { startKubeEmulator } from '../test/kube-emulator/index.js';
import { waitFor } from '../test/support/wait-for.js';
import { quantile } from './figures.js';

const CRD = fileURLToPath(new URL('../infra/kubernetes/crd.yaml', import.meta.url));
const TOKEN = 'bench-ops-token-0123456789abcdef';

export interface ApiListResult {
  cvs: number;
  /** ms, per path: p50 and p99 over `requests` sequential requests. */
  timings: Record<string, { p50: number; p99: number }>;
  requests: number;
}

export async function apiList(
  options: { cvs?: number; requests?: number } = {},
): Promise<ApiListResult> {
  const cvs = options.cvs ?? 500;
  const requests = options.requests ?? 200;
  const emulator = await startKubeEmulator({ port: 0, timeScale: 10, podReadySeconds: 1 });
  const logger = createLogger({ level: 'warn', name: 'bench' });
  const k = (args: string[], input?: string) =>
    kubectl(emulator.kubeconfigPath, args, {
      timeoutMs: 180_000,
      ...(input === undefined ? {} : { input }),
    });
  const kube = createKubeAdapters({ kubeconfigPath: emulator.kubeconfigPath, logger });
  let server: HttpServer | undefined;
  try {
    await k(['apply', '-f', CRD]);
    await k([
      'wait',
      '--for=condition=established',
      'crd/containerversions.cvm.dev',
      '--timeout=20s',
    ]);
    const items: object[] = [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench' } }];
    for (let i = 0; i < cvs; i++) {
      const labels = { app: `app-${i}` };
      items.push(
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: `app-${i}`, namespace: 'bench', labels },
          spec: {
            replicas: 2,
            selector: { matchLabels: labels },
            template: {
              metadata: { labels },
              spec: { containers: [{ name: 'api', image: `registry.example/bench/app-${i}:v1` }] },
            },
          },
        },
        {
          apiVersion: 'cvm.dev/v1',
          kind: 'ContainerVersion',
          metadata: { name: `app-${i}`, namespace: 'bench' },
          spec: {
            imageRepo: `registry.example/bench/app-${i}`,
            tag: 'prod',
            selector: labels,
            container: 'api',
          },
        },
      );
    }
    for (let i = 0; i < items.length; i += 200) {
      const applied = await k(
        ['create', '--validate=false', '-f', '-'],
        JSON.stringify({ apiVersion: 'v1', kind: 'List', items: items.slice(i, i + 200) }),
      );
      if (applied.code !== 0)
        throw new Error(`kubectl create failed (${applied.code}): ${applied.stderr}`);
    }
    await kube.index.start();
    await kube.signals.start();
    await waitFor(() => kube.index.list().length === cvs, `${cvs} CVs in the informer`, {
      timeoutMs: 120_000,
    });
    await waitFor(
      () => kube.signals.workloads('bench').length === cvs,
      `${cvs} Deployments in the watcher`,
      { timeoutMs: 120_000 },
    );
    server = new HttpServer({
      name: 'ops',
      port: 0,
      host: '127.0.0.1',
      handler: createOpsApp({
        metrics: new Metrics({ defaultMetrics: false }),
        readiness: [],
        opsToken: TOKEN,
        api: {
          cvs: kube.index,
          workloads: kube.signals,
          writer: kube.store,
          history: kube.history,
          events: kube.eventReader,
        },
      }),
    });
    await server.start();
    const timings: ApiListResult['timings'] = {};
    const paths = ['/healthz', '/api/v1/workloads', '/api/v1/containerversions'];
    const samples = new Map(paths.map((p) => [p, [] as number[]]));
    // Alternating, after a warm-up, so all three see the same machine.
    for (let round = -10; round < requests; round++)
      for (const path of paths) {
        const started = performance.now();
        const response = await fetch(`${server.url}${path}`, {
          headers: { authorization: `Bearer ${TOKEN}` },
        });
        const body = (await response.json()) as { items?: unknown[] };
        const ms = performance.now() - started;
        if (response.status !== 200) throw new Error(`${path} answered ${response.status}`);
        if (path !== '/healthz' && body.items?.length !== cvs)
          throw new Error(`${path} listed ${body.items?.length} of ${cvs}`);
        if (round >= 0) samples.get(path)!.push(ms);
      }
    for (const [path, list] of samples) {
      const sorted = [...list].sort((a, b) => a - b);
      timings[path] = { p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99) };
    }
    return { cvs, timings, requests };
  } finally {
    await server?.stop();
    await kube.signals.stop();
    await kube.index.stop();
    await emulator.stop();
  }
}
