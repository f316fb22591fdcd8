// Benchmark "rollouts at once" (DESIGN §9): 200 ContainerVersions pushed within one second, pods
// ready after 20 emulated seconds, ONE `cvm worker` process with the default concurrency. Every
// CV must be Ready with its new digest within 1.5× the time one CV alone takes in the same run
// (waiting holds no worker). Also prints the Kubernetes API requests per rollout.
import { randomUUID } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { kubectl } from '../test/kube-emulator/controllers/kubectl.js';
import {
  applyCrd,
  namespaceObjects,
  REDIS_URL,
  stopStack,
  type BenchStack,
} from './bench-stack.js';
import { EMULATOR_TOKEN } from '../test/kube-emulator/kubeconfig.js';
import { startKubeEmulator, type KubeEmulator } from '../test/kube-emulator/index.js';
import { startCvmProcess } from '../test/support/cvm-process.js';
import { DockerRegistry } from '../test/support/docker-registry.js';
import { skopeoPush, writeOciImage } from '../test/support/oci-layout.js';
import { freePort } from '../test/support/redis-server.js';
import { waitFor } from '../test/support/wait-for.js';

const TOKEN = 'bench-notify-token-0123456789';
const MANIFEST_TYPE = 'application/vnd.oci.image.manifest.v1+json';

export interface RolloutsAtOnceOptions {
  /** CVs rolled out at once; default 200. */
  cvs?: number;
  /** Emulated seconds until a pod is ready; default 20. */
  podReadySeconds?: number;
  /** Emulated seconds per real second; default 1. */
  timeScale?: number;
}

export interface RolloutsAtOnceResult {
  cvs: number;
  singleMs: number;
  allMs: number;
  ratio: number;
  apiRequestsPerRollout: number;
  singleApiRequests: number;
}

interface Parts extends BenchStack {
  emulator: KubeEmulator;
  registry: DockerRegistry;
  processes: ChildProcess[];
  prefix: string;
}

/** Points each of `tags` at the manifest of `from`, 20 at a time (each PUT makes a push event). */
async function tag(registry: DockerRegistry, from: string, tags: string[]): Promise<void> {
  const url = (t: string) => `http://${registry.host}/v2/bench/api/manifests/${t}`;
  const manifest = await fetch(url(from), { headers: { accept: MANIFEST_TYPE } });
  const contentType = manifest.headers.get('content-type') ?? MANIFEST_TYPE;
  const body = Buffer.from(await manifest.arrayBuffer());
  const queue = [...tags];
  const putter = async () => {
    for (let t = queue.shift(); t !== undefined; t = queue.shift()) {
      const put = await fetch(url(t), {
        method: 'PUT',
        headers: { 'content-type': contentType },
        body,
      });
      if (put.status !== 201) throw new Error(`PUT ${t}: ${put.status} ${await put.text()}`);
    }
  };
  await Promise.all(Array.from({ length: 20 }, putter));
}

/** Ready=True with a currentDigest, per namespace, as the API server has it now. */
async function readyNamespaces(emulator: KubeEmulator): Promise<Set<string>> {
  const response = await fetch(`${emulator.url}/apis/cvm.dev/v1/containerversions`, {
    headers: { authorization: `Bearer ${EMULATOR_TOKEN}` },
  });
  const list = (await response.json()) as { items: any[] };
  return new Set(
    list.items
      .filter(
        (cv) =>
          cv.status?.currentDigest &&
          !cv.status.rollout &&
          cv.status.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True'),
      )
      .map((cv) => cv.metadata.namespace as string),
  );
}

/** API requests cvm sent (watches and this benchmark's own reads excluded) since `from`. */
function cvmRequests(emulator: KubeEmulator, from: number): number {
  return emulator.requests
    .slice(from)
    .filter(
      (r) =>
        !r.query.includes('watch=') &&
        r.path !== '/apis/cvm.dev/v1/containerversions' &&
        r.path !== '/apis/apps/v1/deployments',
    ).length;
}

async function start(options: Required<RolloutsAtOnceOptions>): Promise<Parts & { repo: string }> {
  const prefix = `bench-${randomUUID().slice(0, 8)}`;
  const emulator = await startKubeEmulator({
    port: 0,
    timeScale: options.timeScale,
    podReadySeconds: options.podReadySeconds,
  });
  await applyCrd(emulator);
  const webhookPort = await freePort();
  const registry = await DockerRegistry.start({
    url: `http://127.0.0.1:${webhookPort}/webhooks/distribution`,
    headers: { Authorization: [`Bearer ${TOKEN}`] },
  });
  const env = {
    CVM_REDIS_URL: REDIS_URL,
    CVM_QUEUE_PREFIX: prefix,
    CVM_KUBECONFIG: emulator.kubeconfigPath,
    CVM_DISTRIBUTION_TOKENS: TOKEN,
    CVM_LOG_LEVEL: 'info',
  };
  const processes: ChildProcess[] = [];
  await startCvmProcess('receiver', { ...env, CVM_WEBHOOK_PORT: String(webhookPort) }, processes);
  await startCvmProcess('worker', env, processes);
  const repo = `${registry.host}/bench/api`;
  skopeoPush(writeOciImage('base', { files: { 'app/v': randomUUID() } }), `${repo}:base`);
  return { emulator, registry, processes, prefix, repo };
}

/** Pushes `tags` (within a second) and resolves when the CVs of `namespaces` are all Ready. */
async function rollOut(
  parts: Parts,
  tags: string[],
  namespaces: string[],
  timeoutMs: number,
): Promise<number> {
  const began = Date.now();
  await tag(parts.registry, 'base', tags);
  const pushedMs = Date.now() - began;
  if (pushedMs > 1_000)
    console.warn(`pushing ${tags.length} tags took ${pushedMs} ms (over one second)`);
  const deployedAt = new Map<string, number>();
  const patchedAt = new Map<string, number>();
  const readyAt = new Map<string, number>();
  await waitFor(
    async () => {
      const ready = await readyNamespaces(parts.emulator);
      if (process.env.BENCH_DEBUG) {
        const { patched, rolledOut } = await deploymentProgress(parts.emulator);
        for (const ns of patched) if (!patchedAt.has(ns)) patchedAt.set(ns, Date.now() - began);
        for (const ns of rolledOut) if (!deployedAt.has(ns)) deployedAt.set(ns, Date.now() - began);
        for (const ns of ready) if (!readyAt.has(ns)) readyAt.set(ns, Date.now() - began);
      }
      return namespaces.every((ns) => ready.has(ns));
    },
    `${namespaces.length} rollouts`,
    { timeoutMs, intervalMs: 500 },
  );
  if (process.env.BENCH_DEBUG) {
    const lag = namespaces.map((ns) => (readyAt.get(ns) ?? 0) - (deployedAt.get(ns) ?? 0));
    const max = (xs: number[]) => Math.max(...xs);
    console.error({
      lastPatchedMs: max([...patchedAt.values()]),
      patchedMsDeciles: [...patchedAt.values()]
        .sort((a, b) => a - b)
        .filter((_, i, all) => i % Math.ceil(all.length / 10) === 0),
      lastDeploymentRolledOutMs: max([...deployedAt.values()]),
      lastCvReadyMs: max([...readyAt.values()]),
      maxLagMs: max(lag),
      meanLagMs: lag.reduce((a, b) => a + b, 0) / lag.length,
    });
  }
  return Date.now() - began;
}

/** Namespaces whose Deployment cvm patched, and those that finished rolling the patch out. */
async function deploymentProgress(
  emulator: KubeEmulator,
): Promise<{ patched: string[]; rolledOut: string[] }> {
  const response = await fetch(`${emulator.url}/apis/apps/v1/deployments`, {
    headers: { authorization: `Bearer ${EMULATOR_TOKEN}` },
  });
  const list = (await response.json()) as { items: any[] };
  const pinned = list.items.filter((d) =>
    d.spec.template.spec.containers[0].image.includes('@sha256'),
  );
  const rolledOut = pinned
    .filter(
      (d) =>
        d.status?.observedGeneration === d.metadata.generation &&
        d.status?.updatedReplicas === 2 &&
        d.status?.availableReplicas === 2 &&
        d.status?.replicas === 2,
    )
    .map((d) => d.metadata.namespace as string);
  return { patched: pinned.map((d) => d.metadata.namespace as string), rolledOut };
}

export async function rolloutsAtOnce(
  options: RolloutsAtOnceOptions = {},
): Promise<RolloutsAtOnceResult> {
  const o = { cvs: 200, podReadySeconds: 20, timeScale: 1, ...options };
  const parts = await start(o);
  try {
    const k = (args: string[], input: string) =>
      kubectl(parts.emulator.kubeconfigPath, args, { input });
    const many = Array.from({ length: o.cvs }, (_, i) => `bench-${i}`);
    const items = [
      ...namespaceObjects('single', parts.repo, 'single', 2),
      ...many.flatMap((ns) => namespaceObjects(ns, parts.repo, ns, 2)),
    ];
    const applied = await k(
      ['apply', '--validate=false', '-f', '-'],
      JSON.stringify({ apiVersion: 'v1', kind: 'List', items }),
    );
    if (applied.code !== 0) throw new Error(applied.stderr);
    // The first pods are up before anything is pushed (the worker logged "cvm started" once its CV index was synced).
    await new Promise((r) => setTimeout(r, 1_000 + (o.podReadySeconds * 1000) / o.timeScale));
    const beforeSingle = parts.emulator.requests.length;
    const singleMs = await rollOut(parts, ['single'], ['single'], 120_000);
    const singleApiRequests = cvmRequests(parts.emulator, beforeSingle);
    if (process.env.BENCH_DEBUG)
      console.error(
        parts.emulator.requests
          .slice(beforeSingle)
          .filter(
            (r) => !r.query.includes('watch=') && r.path !== '/apis/cvm.dev/v1/containerversions',
          )
          .map((r) => `${r.method} ${r.path.replace(/bench-\d+/, 'NS')}`)
          .join('\n'),
      );
    const beforeAll = parts.emulator.requests.length;
    const allMs = await rollOut(parts, many, many, 600_000);
    return {
      cvs: o.cvs,
      singleMs,
      allMs,
      ratio: allMs / singleMs,
      apiRequestsPerRollout: cvmRequests(parts.emulator, beforeAll) / o.cvs,
      singleApiRequests,
    };
  } finally {
    await stopStack(parts);
  }
}
