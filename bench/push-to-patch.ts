// Benchmark "push to patch" (DESIGN §9): ms from a webhook accepted (the receiver's 202) to the
// workload PATCH received by the Kubernetes emulator, with 200 ContainerVersions and Deployments,
// 200 events a second for 20 s, `cvm receiver` and `cvm worker` as child processes. Each event is
// a real new image: 200 CVs × 21 images, each with its own config, are written into the
// registry's storage ahead of time (as a push leaves them, untagged); an event moves the CV's tag
// to its next image (a manifest PUT) and then sends the signed generic webhook with the digest.
// A warm-up round (untimed) rolls every CV out once first. The PATCH is timed where the emulator
// logs the request. The floor: the Redis round trips of the path (receiver add, route job taken,
// rollout added, rollout job taken), one registry HEAD and one Deployment PATCH, timed alone in
// the same run. Environment: BENCH_WORKER_NODE_OPTIONS (e.g. `--import <profiler preload>`),
// BENCH_ROLLOUT_CONCURRENCY (CVM_ROLLOUT_CONCURRENCY of the worker; default: cvm's), BENCH_DEBUG.
import { createHash, createHmac, randomUUID } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { gzipSync } from 'node:zlib';
import { Redis } from 'ioredis';
import { quantile } from './figures.js';
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
import { stringify } from 'yaml';
import { freePort } from '../test/support/redis-server.js';
import { waitFor } from '../test/support/wait-for.js';

const SECRET = 'bench-generic-secret-0123456789';
const MANIFEST_TYPE = 'application/vnd.oci.image.manifest.v1+json';
const CONFIG_TYPE = 'application/vnd.oci.image.config.v1+json';
const LAYER_TYPE = 'application/vnd.oci.image.layer.v1.tar+gzip';
/** Redis round trips between a webhook and its rollout job running (see the header). */
const FLOOR_REDIS_ROUND_TRIPS = 4;

export interface PushToPatchOptions {
  /** ContainerVersions (each with its Deployment, in its own namespace); default 200. */
  cvs?: number;
  /** Events a second; default 200. */
  rate?: number;
  /** Seconds of events; default 20. */
  seconds?: number;
  /** Longest wait for the last PATCH after the last event, ms; default 30 000. */
  drainMs?: number;
  /** Set NODE_OPTIONS of the worker (e.g. `--cpu-prof --cpu-prof-dir=…`). */
  workerNodeOptions?: string;
}

export interface PushToPatchResult {
  events: number;
  /** Events whose digest was patched into their Deployment. */
  patched: number;
  /** Latencies in ms, ascending (events never patched are missing). */
  latencies: number[];
  p50: number;
  p90: number;
  /** p99 over all events; an event never patched counts as the whole wait. */
  p99: number;
  floor: { p50: number; p99: number };
  /** Events whose webhook was not answered 202. */
  refused: number;
  /** How late the last event was sent, ms after its time (the sender's own lag). */
  sendLagMs: number;
}

interface Parts extends BenchStack {
  emulator: KubeEmulator;
  registry: BenchRegistry;
  processes: ChildProcess[];
  prefix: string;
}

interface Image {
  digest: string;
  bytes: Buffer;
}

const sha256 = (data: Buffer | string) =>
  `sha256:${createHash('sha256').update(data).digest('hex')}`;

/** Runs `work` over `items` with `width` at a time. */
async function pool<T>(items: T[], width: number, work: (item: T) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: width }, worker));
}

/** docker-registry on a free port, storing under `root` (its filesystem layout is written directly below). */
async function startRegistry(): Promise<BenchRegistry> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'cvm-bench-registry-'));
  const root = join(dir, 'data');
  const configPath = join(dir, 'config.yml');
  writeFileSync(
    configPath,
    stringify({
      version: 0.1,
      log: { level: 'warn', accesslog: { disabled: true } },
      storage: { filesystem: { rootdirectory: root }, delete: { enabled: true } },
      http: { addr: `127.0.0.1:${port}`, secret: 'bench-secret' },
    }),
  );
  const proc = spawn('docker-registry', ['serve', configPath], { stdio: 'ignore' });
  const registry: BenchRegistry = {
    host: `127.0.0.1:${port}`,
    root,
    stop: async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = once(proc, 'exit');
      proc.kill('SIGTERM');
      await exited;
    },
  };
  await waitFor(
    () =>
      fetch(`http://${registry.host}/v2/`).then(
        (r) => r.status === 200,
        () => false,
      ),
    'docker-registry',
    { timeoutMs: 15_000, intervalMs: 100 },
  );
  return registry;
}

interface BenchRegistry {
  host: string;
  root: string;
  stop(): Promise<void>;
}

/**
 * Writes images into the registry's storage as a push would leave them (blob data, the
 * repository's layer and manifest-revision links), without a request: thousands of images
 * with their own configs in a second. Each has its own config (labels, creation time) and the
 * one layer of `base`; nothing is tagged.
 */
function writeImages(
  registry: BenchRegistry,
  repository: string,
  base: { layer: Buffer; config: Record<string, unknown> },
  images: { label: string; created: string }[],
): Image[] {
  const v2 = join(registry.root, 'docker/registry/v2');
  const blob = (bytes: Buffer): string => {
    const digest = sha256(bytes);
    const hex = digest.slice('sha256:'.length);
    const dir = join(v2, 'blobs/sha256', hex.slice(0, 2), hex);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'data'), bytes);
    return digest;
  };
  const link = (kind: '_layers' | '_manifests/revisions', digest: string) => {
    const dir = join(v2, 'repositories', repository, kind, 'sha256', digest.slice(7));
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'link'), digest);
  };
  const layer = { mediaType: LAYER_TYPE, digest: blob(base.layer), size: base.layer.length };
  link('_layers', layer.digest);
  return images.map(({ label, created }) => {
    const config = Buffer.from(
      JSON.stringify({ ...base.config, created, config: { Labels: { 'bench.image': label } } }),
    );
    const configDigest = blob(config);
    link('_layers', configDigest);
    const bytes = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MANIFEST_TYPE,
        config: { mediaType: CONFIG_TYPE, digest: configDigest, size: config.length },
        layers: [layer],
      }),
    );
    const digest = blob(bytes);
    link('_manifests/revisions', digest);
    return { digest, bytes };
  });
}

async function start(
  o: Required<Omit<PushToPatchOptions, 'workerNodeOptions'>> & PushToPatchOptions,
) {
  const prefix = `bench-${randomUUID().slice(0, 8)}`;
  // Pods are ready moments after a patch, so each CV's rollout ends before its next push.
  const emulator = await startKubeEmulator({ port: 0, timeScale: 1, podReadySeconds: 0.1 });
  await applyCrd(emulator);
  const registry = await startRegistry();
  const webhookPort = await freePort();
  const env = {
    CVM_REDIS_URL: REDIS_URL,
    CVM_QUEUE_PREFIX: prefix,
    CVM_KUBECONFIG: emulator.kubeconfigPath,
    CVM_GENERIC_SECRETS: SECRET,
    CVM_LOG_LEVEL: 'info',
    ...(process.env.BENCH_ROLLOUT_CONCURRENCY
      ? { CVM_ROLLOUT_CONCURRENCY: process.env.BENCH_ROLLOUT_CONCURRENCY }
      : {}),
  };
  const processes: ChildProcess[] = [];
  const parts: Parts = { emulator, registry, processes, prefix };
  try {
    await startCvmProcess('receiver', { ...env, CVM_WEBHOOK_PORT: String(webhookPort) }, processes);
    await startCvmProcess(
      'worker',
      { ...env, ...(o.workerNodeOptions ? { NODE_OPTIONS: o.workerNodeOptions } : {}) },
      processes,
    );
  } catch (error) {
    await stopStack(parts);
    throw error;
  }
  return { ...parts, webhook: `http://127.0.0.1:${webhookPort}/webhooks/generic` };
}

/** When each digest was first PATCHed into a Deployment (performance.now()), hooked on the request log. */
function patchTimes(emulator: KubeEmulator): Map<string, number> {
  const at = new Map<string, number>();
  const requests = emulator.requests;
  const push = requests.push.bind(requests);
  requests.push = (...records) => {
    const now = performance.now();
    for (const r of records) {
      if (
        r.method !== 'PATCH' ||
        !/^\/apis\/apps\/v1\/namespaces\/[^/]+\/deployments\/[^/]+$/.test(r.path)
      )
        continue;
      const digest = /"image":"[^"]*@(sha256:[0-9a-f]{64})"/.exec(r.body)?.[1];
      if (digest && !at.has(digest)) at.set(digest, now);
    }
    return push(...records);
  };
  return at;
}

/** p50 and p99 of: the Redis round trips, one HEAD of a tag, one Deployment PATCH, in sequence. */
async function floor(
  emulator: KubeEmulator,
  registry: BenchRegistry,
  repository: string,
  namespace: string,
  samples: number,
): Promise<{ p50: number; p99: number }> {
  const redis = new Redis(REDIS_URL);
  const took: number[] = [];
  try {
    for (let i = 0; i < samples; i++) {
      const began = performance.now();
      for (let r = 0; r < FLOOR_REDIS_ROUND_TRIPS; r++) await redis.ping();
      const head = await fetch(`http://${registry.host}/v2/${repository}/manifests/cv-0`, {
        method: 'HEAD',
        headers: { accept: MANIFEST_TYPE },
      });
      if (head.status !== 200) throw new Error(`floor HEAD: ${head.status}`);
      const patch = await fetch(
        `${emulator.url}/apis/apps/v1/namespaces/${namespace}/deployments/api`,
        {
          method: 'PATCH',
          headers: {
            authorization: `Bearer ${EMULATOR_TOKEN}`,
            'content-type': 'application/strategic-merge-patch+json',
          },
          body: JSON.stringify({ metadata: { annotations: { 'bench/floor': String(i) } } }),
        },
      );
      await patch.arrayBuffer();
      if (patch.status !== 200) throw new Error(`floor PATCH: ${patch.status}`);
      took.push(performance.now() - began);
    }
  } finally {
    redis.disconnect();
  }
  took.sort((a, b) => a - b);
  return { p50: quantile(took, 0.5), p99: quantile(took, 0.99) };
}

export async function pushToPatch(options: PushToPatchOptions = {}): Promise<PushToPatchResult> {
  const o = { cvs: 200, rate: 200, seconds: 20, drainMs: 30_000, ...options };
  const parts = await start(o);
  try {
    const repository = 'bench/p2p';
    const repo = `${parts.registry.host}/${repository}`;
    const namespaces = Array.from({ length: o.cvs }, (_, i) => `p2p-${i}`);
    const items = [
      ...namespaces.flatMap((ns, i) => namespaceObjects(ns, repo, `cv-${i}`, 1)),
      ...namespaceObjects('floor', 'example.com/floor/api', 'none', 1).slice(0, 2),
    ];
    const applied = await kubectl(
      parts.emulator.kubeconfigPath,
      ['apply', '--validate=false', '-f', '-'],
      { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items }) },
    );
    if (applied.code !== 0) throw new Error(applied.stderr);
    // One layer (an empty gzipped tar) shared by every image; configs of their own.
    const base = {
      layer: gzipSync(Buffer.alloc(1024)),
      config: {
        architecture: 'amd64',
        os: 'linux',
        rootfs: { type: 'layers', diff_ids: [sha256(Buffer.alloc(1024))] },
      },
    };
    // Generation 0 is the warm-up round (untimed); 1..rounds are timed.
    const rounds = Math.ceil((o.rate * o.seconds) / o.cvs);
    const createdAt = Date.now() - 3_600_000;
    const writeBegan = Date.now();
    const images: Image[][] = namespaces.map((_, cv) =>
      writeImages(
        parts.registry,
        repository,
        base,
        Array.from({ length: rounds + 1 }, (_, g) => ({
          label: `${cv}-${g}`,
          created: new Date(createdAt + g * 1000).toISOString(),
        })),
      ),
    );
    console.error(
      `push-to-patch: ${(rounds + 1) * o.cvs} images written in ${Date.now() - writeBegan} ms`,
    );

    const patchedAt = patchTimes(parts.emulator);
    const tagUrl = (cv: number) =>
      `http://${parts.registry.host}/v2/${repository}/manifests/cv-${cv}`;
    /** Moves the CV's tag to its image `g`, then sends the webhook; resolves to when it was accepted. */
    const push = async (cv: number, g: number): Promise<number | null> => {
      const image = images[cv]![g]!;
      const put = await fetch(tagUrl(cv), {
        method: 'PUT',
        headers: { 'content-type': MANIFEST_TYPE },
        body: image.bytes,
      });
      await put.body?.cancel();
      if (put.status !== 201) throw new Error(`tag PUT: ${put.status}`);
      const body = JSON.stringify({ image: `${repo}:cv-${cv}`, digest: image.digest });
      const response = await fetch(parts.webhook, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-cvm-signature-256': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`,
        },
        body,
      });
      await response.body?.cancel();
      return response.status === 202 ? performance.now() : null;
    };

    // Warm-up: every CV rolls out its first image (the worker's connections and caches are made).
    await pool(
      namespaces.map((_, cv) => cv),
      20,
      async (cv) => void (await push(cv, 0)),
    );
    await waitFor(
      () => namespaces.every((_, cv) => patchedAt.has(images[cv]![0]!.digest)),
      'the warm-up rollouts',
      { timeoutMs: 60_000, intervalMs: 100 },
    );
    // Their rollouts end (pods ready, status recorded) before the timed events.
    await new Promise((r) => setTimeout(r, 1_500));
    const floorTimes = await floor(parts.emulator, parts.registry, repository, 'floor', 200);

    const requestsBefore = parts.emulator.requests.length;
    const events = o.rate * o.seconds;
    const accepted: (number | null | undefined)[] = new Array(events);
    const sends: Promise<void>[] = [];
    const probes: number[] = [];
    let probing = Boolean(process.env.BENCH_DEBUG);
    const probe = async () => {
      while (probing) {
        const t = performance.now();
        const r = await fetch(`${parts.emulator.url}/api/v1/namespaces/floor`, {
          headers: { authorization: `Bearer ${EMULATOR_TOKEN}` },
        });
        await r.arrayBuffer();
        probes.push(performance.now() - t);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    };
    const probed = probe();
    const began = performance.now();
    let sendLagMs = 0;
    for (let e = 0; e < events; e++) {
      const due = began + (e * 1000) / o.rate;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      sendLagMs = Math.max(0, performance.now() - due);
      const cv = e % o.cvs;
      const g = 1 + Math.floor(e / o.cvs);
      sends.push(
        push(cv, g).then(
          (at) => void (accepted[e] = at),
          () => void (accepted[e] = null),
        ),
      );
    }
    await Promise.all(sends);
    const generations = 1 + Math.floor((events - 1) / o.cvs);
    // Newest wins (ADR 0003): pushes to a CV whose rollout is in flight collapse into one job that
    // deploys what the tag points to when it runs, so an event is applied by the first PATCH of
    // its image or of a later one of the same CV.
    const appliedAt = (e: number): number | undefined => {
      const cv = images[e % o.cvs]!;
      let first: number | undefined;
      for (let g = 1 + Math.floor(e / o.cvs); g <= generations; g++) {
        const at = patchedAt.get(cv[g]!.digest);
        if (at !== undefined && (first === undefined || at < first)) first = at;
      }
      return first;
    };
    const allPatched = () =>
      Array.from({ length: events }, (_, e) => e).every(
        (e) => accepted[e] === null || appliedAt(e) !== undefined,
      );
    const drainBegan = performance.now();
    await waitFor(allPatched, 'every event patched', {
      timeoutMs: o.drainMs,
      intervalMs: 50,
    }).catch(() => undefined);
    const end = performance.now();
    probing = false;
    await probed;
    if (process.env.BENCH_DEBUG)
      console.error('emulator GET ms during the run', probes.map((p) => Math.round(p)).join(' '));
    const latencies: number[] = [];
    const all: number[] = [];
    let refused = 0;
    for (let e = 0; e < events; e++) {
      const at = accepted[e];
      if (at === null || at === undefined) {
        refused++;
        continue;
      }
      const patched = appliedAt(e);
      if (patched === undefined) all.push(end - at);
      else {
        // A PATCH can reach the emulator before the 202 reaches the sender.
        const ms = Math.max(0, patched - at);
        latencies.push(ms);
        all.push(ms);
      }
    }
    latencies.sort((a, b) => a - b);
    all.sort((a, b) => a - b);
    if (process.env.BENCH_DEBUG) {
      const counts = new Map<string, number>();
      for (const r of parts.emulator.requests.slice(requestsBefore)) {
        const key = `${r.method} ${r.path.replace(/p2p-\d+/, 'NS')}${r.query.includes('watch=') ? ' (watch)' : ''}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      console.error([...counts].sort((a, b) => b[1] - a[1]).slice(0, 25));
    }
    if (process.env.BENCH_DEBUG)
      console.error({ drainMs: end - drainBegan, max: all.at(-1), floor: floorTimes });
    return {
      events,
      patched: latencies.length,
      latencies,
      p50: quantile(all, 0.5),
      p90: quantile(all, 0.9),
      p99: quantile(all, 0.99),
      floor: floorTimes,
      refused,
      sendLagMs,
    };
  } finally {
    await stopStack(parts);
  }
}
