// Benchmark "scale" (DESIGN §9): one `cvm serve` (every role in one process, the compiled
// `dist/` as installed, built first when older than `src/`) with N ContainerVersions, each
// following its own repo:tag and managing its own Deployment, all filled straight into the
// emulator's store.
//
// - scale.first-sync: s from the start of `cvm serve` until every CV is synced (status written
//   with observedGeneration, its Deployment at the tag's digest); baseline: one CV alone, same
//   measure, in a `cvm serve` started for it alone.
// - scale.rss, scale.idle-cpu, scale.idle-api-requests: over 60 s of idle after the first sync.
//   Idle means: no push, no spec change, and no poll due (each repo:tag was resolved by its CV's
//   sync less than its 300 s poll interval ago). Beside it, a bare `node` process idles.
// - scale.registry-requests: polls (cvm_polls_total: one registry request each) in the minute
//   after every repo:tag received a push (distribution webhooks to the receiver) while the poll
//   state says each was last polled one interval ago, so without the pushes every one of them
//   would be due in that minute (the baseline).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { appendFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { parse } from 'yaml';
import { startKubeEmulator, type KubeEmulator } from '../test/kube-emulator/index.js';
import type { CvmProcess } from '../test/support/cvm-process.js';
import { DockerRegistry } from '../test/support/docker-registry.js';
import { skopeoPush, writeOciImage } from '../test/support/oci-layout.js';
import { freePort } from '../test/support/redis-server.js';
import { waitFor } from '../test/support/wait-for.js';
import { figure, type Figure } from './figures.js';
import { fillEmulator } from './fill-emulator.js';
import { ensureBuilt } from './ingest-support.js';

const HERE = fileURLToPath(new URL('..', import.meta.url));
const CRD = join(HERE, 'infra/kubernetes/crd.yaml');
/** The checkout whose cvm is measured: this one, or BENCH_CVM_ROOT (e.g. a worktree of main, for "before"). */
const ROOT = process.env.BENCH_CVM_ROOT ?? HERE;
const REDIS_URL = 'redis://127.0.0.1:6379';
const TOKEN = 'bench-scale-token-0123456789';
const OPS_TOKEN = 'bench-scale-ops-token-0123456789';
const MANIFEST_TYPE = 'application/vnd.oci.image.manifest.v1+json';
const CV_RESOURCE = 'containerversions.cvm.dev';
const POLL_INTERVAL_SECONDS = 300;
const CLOCK_TICKS = 100; // getconf CLK_TCK on Linux

export interface ScaleOptions {
  /** ContainerVersions (and Deployments); default 10 000. */
  cvs?: number;
  /** CVs a namespace holds; default 100. */
  perNamespace?: number;
  /** Seconds of the idle window; default 60. */
  idleSeconds?: number;
  /** Seconds the polls are counted after the pushes; default 60. */
  pushSeconds?: number;
  /** Longest wait for the first sync, s; default 150. */
  firstSyncTimeoutSeconds?: number;
  /** A directory for `--cpu-prof` of the big `cvm serve`; none by default. */
  profileDir?: string;
}

interface Stack {
  emulator: KubeEmulator;
  registry: DockerRegistry;
  repo: string;
  webhookPort: number;
  prefix: string;
  processes: ChildProcess[];
  /** The digest every tag points at. */
  digest: string;
}

const cpuTicks = (pid: number): number => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 of stat (utime, stime); fields[0] here is field 3.
  return Number(fields[11]) + Number(fields[12]);
};

/** CPU ticks of each of a process's threads, summed by thread name (`node`, `V8 DefaultWorke`, …). */
const threadTicks = (pid: number): Map<string, number> => {
  const byName = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      byName.set(name, (byName.get(name) ?? 0) + Number(fields[11]) + Number(fields[12]));
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return byName;
};

/** `node 0.4 %, V8 DefaultWorke 0.6 %`: each thread name's share of one core between two readings. */
const threadShares = (before: Map<string, number>, after: Map<string, number>, ms: number) =>
  [...after]
    .map(
      ([name, ticks]) =>
        [name, ((ticks - (before.get(name) ?? 0)) / CLOCK_TICKS / (ms / 1000)) * 100] as const,
    )
    .filter(([, share]) => share > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([name, share]) => `${name} ${share.toFixed(2)} %`)
    .join(', ');

/**
 * How long the process is left alone after the first sync before the idle window: V8's memory
 * reducer compacts the heap the sync grew once allocations stop (3,000 CVs: RSS 372 → 152 MiB
 * between 20 and 40 s after the sync), or not at all when no major GC follows the sync.
 */
const SETTLE_MS = 45_000;

/** Leaves the process alone for {@link SETTLE_MS}; returns the CPU it used and its RSS before and after. */
async function settle(pid: number) {
  const ticks = cpuTicks(pid);
  const fromMiB = rssMiB(pid);
  await sleep(SETTLE_MS);
  const cpu = ((cpuTicks(pid) - ticks) / CLOCK_TICKS / (SETTLE_MS / 1000)) * 100;
  return { ms: SETTLE_MS, cpu, fromMiB, toMiB: rssMiB(pid) };
}

const rssMiB = (pid: number): number => {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Number(line?.split(/\s+/)[1] ?? NaN) / 1024;
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Points each of `tags` at the manifest of `from`, 32 at a time (no notifications configured). */
/**
 * Points `tags` at the manifest `from` points at, written straight into the registry's storage
 * as a manifest PUT by tag leaves it (`_manifests/tags/<tag>/current/link` and its index link):
 * 10,000 PUTs took 45 s on a slow machine, these writes a second. Returns the digest.
 */
async function tag(registry: DockerRegistry, repoPath: string, from: string, tags: string[]) {
  const manifest = await fetch(`http://${registry.host}/v2/${repoPath}/manifests/${from}`, {
    method: 'HEAD',
    headers: { accept: MANIFEST_TYPE },
  });
  const digest = manifest.headers.get('docker-content-digest') ?? '';
  if (!digest.startsWith('sha256:')) throw new Error(`no digest for ${repoPath}:${from}`);
  const tagsDir = join(
    registry.storageRoot,
    'docker/registry/v2/repositories',
    repoPath,
    '_manifests/tags',
  );
  for (const t of tags) {
    const current = join(tagsDir, t, 'current');
    const index = join(tagsDir, t, 'index/sha256', digest.slice('sha256:'.length));
    mkdirSync(current, { recursive: true });
    mkdirSync(index, { recursive: true });
    writeFileSync(join(current, 'link'), digest);
    writeFileSync(join(index, 'link'), digest);
  }
  return digest;
}

const tagOf = (i: number) => `t${i}`;

/** Creates `count` namespaces' worth of Deployments and CVs from `from` on, straight in the emulator's store. */
async function fill(
  stack: Stack,
  from: number,
  count: number,
  perNamespace: number,
): Promise<void> {
  await fillEmulator(stack.emulator, {
    cvs: count,
    from,
    perNamespace,
    namespacePrefix: 'scale',
    imageRepo: stack.repo,
    tagOf,
    pollIntervalSeconds: POLL_INTERVAL_SECONDS,
    via: 'store',
  });
}

/**
 * Counts CVs synced (status.observedGeneration = generation) and Deployments at the digest, from
 * the store's own events (no API request); resolves when all `keys` (`ns/i`) are both.
 */
function syncTracker(stack: Stack, expected: number) {
  const cvSynced = new Set<string>();
  const deploymentsAt = new Set<string>();
  const unsubscribe = stack.emulator.store.subscribe(
    (event) => {
      const o = event.object as any;
      const ns = o.metadata?.namespace as string;
      const name = o.metadata?.name as string;
      if (event.resource === CV_RESOURCE) {
        if (o.status?.observedGeneration === o.metadata.generation && o.status?.currentDigest)
          cvSynced.add(`${ns}/${name.slice(3)}`);
      } else if (event.resource === 'deployments.apps') {
        if (String(o.spec?.template?.spec?.containers?.[0]?.image ?? '').endsWith(stack.digest))
          deploymentsAt.add(`${ns}/${name.slice(4)}`);
      }
      // It only reads: no copy of every object stored (the emulator shares this process's thread).
    },
    { shared: true },
  );
  const done = () => {
    let n = 0;
    for (const k of cvSynced) if (deploymentsAt.has(k)) n += 1;
    return n;
  };
  return {
    synced: done,
    async wait(timeoutMs: number): Promise<boolean> {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        if (done() >= expected) return true;
        await sleep(200);
      }
      return done() >= expected;
    },
    stop: unsubscribe,
  };
}

/** Resolves once every Deployment of the emulator is available at its generation; throws after `timeoutMs`. */
async function deploymentsSettled(emulator: KubeEmulator, timeoutMs: number): Promise<void> {
  const settled = (d: any) =>
    d.status?.observedGeneration === d.metadata.generation &&
    (d.status?.availableReplicas ?? 0) === (d.spec?.replicas ?? 1);
  // Followed from the store's events (shared: no copies), after one list: a LIST of 10,000
  // copies every 500 ms would slow down the very controllers waited for.
  const key = (d: any) => `${d.metadata.namespace}/${d.metadata.name}`;
  const unsettled = new Set<string>();
  const off = emulator.store.subscribe(
    (event) => {
      if (event.resource !== 'deployments.apps') return;
      if (event.type === 'DELETED' || settled(event.object)) unsettled.delete(key(event.object));
      else unsettled.add(key(event.object));
    },
    { shared: true },
  );
  try {
    for (const d of emulator.store.list('deployments.apps')) if (!settled(d)) unsettled.add(key(d));
    await waitFor(() => unsettled.size === 0, "the emulator's Deployments to settle", {
      timeoutMs,
      intervalMs: 200,
    });
  } finally {
    off();
  }
}

/** Non-watch API requests recorded since index `from`. */
const apiRequests = (emulator: KubeEmulator, from: number) =>
  emulator.requests.slice(from).filter((r) => !r.query.includes('watch=')).length;

/** What those requests were, most frequent first (`GET /apis/apps/v1/namespaces/NS/...`). */
/** The requests about one CV and its Deployment since `from`, in order (what one sync costs). */
function requestsOfOne(emulator: KubeEmulator, from: number, namespace: string, i: number): string {
  const names = [`cv-${i}`, `app-${i}`, `cv-${i}-history`];
  const segments = (r: { path: string }) => r.path.split('/').filter((x) => x !== 'status');
  return emulator.requests
    .slice(from)
    .filter((r) => !r.query.includes('watch=') && r.path.includes(`/namespaces/${namespace}/`))
    .filter((r) =>
      r.method === 'POST'
        ? names.some((n) => r.body.includes(`"${n}"`))
        : names.includes(segments(r).at(-1) ?? ''),
    )
    .map((r) => {
      const kind = segments(r).at(r.method === 'POST' ? -1 : -2);
      const reason = kind === 'events' ? ` ${/"reason":"(\w+)"/.exec(r.body)?.[1] ?? ''}` : '';
      return `${r.method} ${kind}${r.path.endsWith('/status') ? '/status' : ''}${reason} ${r.status}`;
    })
    .join(', ');
}

function requestKinds(emulator: KubeEmulator, from: number, top = 4): string {
  const counts = new Map<string, number>();
  for (const r of emulator.requests.slice(from)) {
    if (r.query.includes('watch=')) continue;
    const key = `${r.method} ${r.path.replace(/scale-\d+/, 'NS').replace(/(app|cv)-\d+/, 'X')}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
}

/** cvm's `/metrics` page (with the ops token); throws unless it was served. */
async function scrape(opsPort: number): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${opsPort}/metrics`, {
    headers: { authorization: `Bearer ${OPS_TOKEN}` },
  });
  const text = await response.text();
  if (response.status !== 200)
    throw new Error(`/metrics answered ${response.status}: ${text.slice(0, 200)}`);
  return text;
}

/** The sum of a metric's samples on a `/metrics` page; throws when the page does not have it. */
function sample(text: string, name: string): number {
  if (!text.includes(`# TYPE ${name} `)) throw new Error(`/metrics has no ${name}`);
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

const metric = async (opsPort: number, name: string) => sample(await scrape(opsPort), name);

/** Each V8 heap space's used and total size, `old 40/90 new 2/16 …`, largest total first. */
function heapSpaces(text: string): string {
  const spaces = new Map<string, { used: number; total: number }>();
  for (const line of text.split('\n')) {
    const m = /^nodejs_heap_space_size_(used|total)_bytes\{space="(\w+)"\} (\S+)/.exec(line);
    if (!m) continue;
    const s = spaces.get(m[2]!) ?? { used: 0, total: 0 };
    s[m[1] as 'used' | 'total'] = Number(m[3]) / 2 ** 20;
    spaces.set(m[2]!, s);
  }
  return [...spaces]
    .sort((a, b) => b[1].total - a[1].total)
    .map(([name, s]) => `${name} ${s.used.toFixed(0)}/${s.total.toFixed(0)}`)
    .join(' ');
}

/** What the RSS is made of, from prom-client's default metrics (V8 heap, external memory). */
async function memoryParts(opsPort: number): Promise<string> {
  const text = await scrape(opsPort);
  const mib = (name: string) => (sample(text, name) / 2 ** 20).toFixed(0);
  return [
    `heap used ${mib('nodejs_heap_size_used_bytes')} MiB`,
    `of ${mib('nodejs_heap_size_total_bytes')} MiB`,
    `external ${mib('nodejs_external_memory_bytes')} MiB`,
    `spaces (used/total MiB) ${heapSpaces(text)}`,
  ].join(', ');
}

async function startStack(): Promise<Stack> {
  const prefix = `bench-scale-${randomUUID().slice(0, 8)}`;
  const emulator = await startKubeEmulator({ port: 0, podReadySeconds: 1 });
  for (const doc of readFileSync(CRD, 'utf8').split(/^---$/m)) {
    const crd = parse(doc) as { kind?: string } | null;
    if (crd?.kind === 'CustomResourceDefinition')
      emulator.store.create('customresourcedefinitions.apiextensions.k8s.io', crd as any);
  }
  for (let i = 0; i < 100 && !emulator.store.registry.get(CV_RESOURCE); i += 1) await sleep(50);
  const registry = await DockerRegistry.start();
  const repoPath = 'bench/scale';
  const repo = `${registry.host}/${repoPath}`;
  skopeoPush(writeOciImage('base', { files: { 'app/v': randomUUID() } }), `${repo}:base`);
  return {
    emulator,
    registry,
    repo,
    webhookPort: await freePort(),
    prefix,
    processes: [],
    digest: '',
  };
}

async function stopProcess(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  p.kill('SIGTERM');
  await once(p, 'exit');
}

async function stopStack(stack: Stack): Promise<void> {
  for (const p of stack.processes) await stopProcess(p);
  await stack.registry.stop();
  for (const name of ['push-events', 'rollouts', 'notifications']) {
    const queue = new Queue(name, { connection: { url: REDIS_URL }, prefix: stack.prefix });
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
  }
  const redis = new Redis(REDIS_URL);
  const keys = await redis.keys(`${stack.prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
  await stack.emulator.stop();
}

/**
 * `cvm serve` as installed (`node bin/cvm.js`, the compiled `dist/`; from source through tsx, the
 * loader and its source maps alone add about 90 MiB); resolves once it logged "cvm started".
 */
async function serve(stack: Stack, nodeArgs: string[] = []): Promise<CvmProcess> {
  const opsPort = await freePort();
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('CVM_')),
  );
  const proc = spawn(process.execPath, [...nodeArgs, join(ROOT, 'bin/cvm.js'), 'serve'], {
    env: {
      ...inherited,
      CVM_REDIS_URL: REDIS_URL,
      CVM_QUEUE_PREFIX: stack.prefix,
      CVM_KUBECONFIG: stack.emulator.kubeconfigPath,
      CVM_DISTRIBUTION_TOKENS: TOKEN,
      CVM_WEBHOOK_PORT: String(stack.webhookPort),
      CVM_LOG_LEVEL: 'info',
      CVM_OPS_PORT: String(opsPort),
      CVM_OPS_TOKEN: OPS_TOKEN,
      CVM_LISTEN_HOST: '127.0.0.1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  stack.processes.push(proc);
  let out = '';
  const logFile = process.env.BENCH_SCALE_LOG;
  const keep = (c: Buffer) => {
    out += c.toString();
    if (logFile) appendFileSync(logFile, c);
  };
  proc.stdout.on('data', keep);
  proc.stderr.on('data', keep);
  proc.on('exit', (code, signal) => {
    if (code !== 0 && signal !== 'SIGTERM') console.error(`  cvm serve exited: ${code ?? signal}`);
  });
  await waitFor(
    () => {
      if (proc.exitCode !== null) throw new Error(`cvm serve exited: ${out.slice(-2_000)}`);
      return out.includes('"msg":"cvm started"');
    },
    'cvm serve to start',
    { timeoutMs: 60_000 },
  ).catch((error: unknown) => {
    throw new Error(`${(error as Error).message}\n${out.slice(-2_000)}`);
  });
  return { proc, output: () => out, opsPort };
}

/** One distribution envelope per 100 tags, 8 in flight. */
async function pushAll(stack: Stack, tags: string[]): Promise<void> {
  const host = stack.registry.host;
  const envelopes: string[] = [];
  for (let i = 0; i < tags.length; i += 100) {
    envelopes.push(
      JSON.stringify({
        events: tags.slice(i, i + 100).map((t) => ({
          id: randomUUID(),
          timestamp: new Date().toISOString(),
          action: 'push',
          target: {
            mediaType: MANIFEST_TYPE,
            repository: 'bench/scale',
            digest: stack.digest,
            tag: t,
          },
          request: { host },
        })),
      }),
    );
  }
  let next = 0;
  const sender = async () => {
    for (let i = next++; i < envelopes.length; i = next++) {
      // A 503 asks for a retry (the receiver adds no event twice): up to 5 tries.
      for (let attempt = 1; ; attempt += 1) {
        const r = await fetch(`http://127.0.0.1:${stack.webhookPort}/webhooks/distribution`, {
          method: 'POST',
          headers: {
            'content-type': 'application/vnd.docker.distribution.events.v1+json',
            authorization: `Bearer ${TOKEN}`,
          },
          body: envelopes[i]!,
        });
        if (r.status < 300) break;
        if (r.status !== 503 || attempt === 5)
          throw new Error(`webhook: ${r.status} ${await r.text()}`);
        await sleep(500 * attempt);
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, sender));
}

export async function scale(options: ScaleOptions = {}): Promise<Figure[]> {
  const o = {
    cvs: 10_000,
    perNamespace: 100,
    idleSeconds: 60,
    pushSeconds: 60,
    firstSyncTimeoutSeconds: 150,
    ...options,
  };
  const began = Date.now();
  const log = (msg: string) =>
    console.error(`  scale ${((Date.now() - began) / 1000).toFixed(0)} s: ${msg}`);
  ensureBuilt();
  const stack = await startStack();
  const bare = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  try {
    const tags = Array.from({ length: o.cvs + 1 }, (_, i) => tagOf(i));
    stack.digest = await tag(stack.registry, 'bench/scale', 'base', tags);
    log(`${tags.length} tags pushed`);

    // Baseline: one CV alone (index o.cvs), in a cvm serve of its own.
    await fill(stack, o.cvs, 1, o.perNamespace);
    const single = syncTracker(stack, 1);
    const singleStart = Date.now();
    const alone = await serve(stack);
    await single.wait(60_000);
    const singleMs = Date.now() - singleStart;
    single.stop();
    await sleep(3_000);
    const aloneRss = rssMiB(alone.proc.pid!);
    await stopProcess(alone.proc);
    log(`one CV synced in ${singleMs} ms`);

    const fillStart = Date.now();
    await fill(stack, 0, o.cvs, o.perNamespace);
    log(`${o.cvs} CVs and Deployments created in ${Date.now() - fillStart} ms`);
    // As in a cluster where they have run for a while: the emulator's controllers (in this
    // process, one thread) have made every Deployment's ReplicaSet and Pods before cvm starts, or
    // cvm's first LISTs wait behind that catch-up (10,000 Deployments: about 16 s).
    const settleStart = Date.now();
    await deploymentsSettled(stack.emulator, 120_000);
    log(`the emulator's controllers settled the Deployments in ${Date.now() - settleStart} ms`);

    const tracker = syncTracker(stack, o.cvs);
    const syncStart = Date.now();
    const cvm = await serve(stack, [
      ...(o.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${o.profileDir}`] : []),
      ...(process.env.BENCH_HEAP_DIR
        ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${process.env.BENCH_HEAP_DIR}`]
        : []),
    ]);
    const pid = cvm.proc.pid!;
    log(`cvm serve started in ${Date.now() - syncStart} ms`);
    const requestsAtStart = stack.emulator.requests.length;
    const allSynced = await tracker.wait(o.firstSyncTimeoutSeconds * 1000);
    const firstSyncMs = Date.now() - syncStart;
    const synced = tracker.synced();
    tracker.stop();
    const syncRequests = apiRequests(stack.emulator, requestsAtStart);
    log(`first sync: ${synced} of ${o.cvs} in ${firstSyncMs} ms (${syncRequests} API requests)`);
    log(`first sync requests: ${requestKinds(stack.emulator, requestsAtStart, 12)}`);
    log(`first sync of cv-1: ${requestsOfOne(stack.emulator, requestsAtStart, 'scale-0', 1)}`);

    // Idle, once settled: right after the first sync V8 still compacts the heap the sync grew
    // (its memory reducer: about 40 s of full GCs that give back most of the RSS).
    const settling = await settle(pid);
    log(
      `settled in ${settling.ms} ms after the first sync: ${settling.cpu.toFixed(1)} % CPU, RSS ${settling.fromMiB.toFixed(0)} → ${settling.toMiB.toFixed(0)} MiB`,
    );
    const idleFrom = Date.now() - syncStart;
    const requestsBefore = stack.emulator.requests.length;
    const [cvmTicks, bareTicks] = [cpuTicks(pid), cpuTicks(bare.pid!)];
    const threadsBefore = threadTicks(pid);
    const idleStart = Date.now();
    await sleep(o.idleSeconds * 1000);
    const idleMs = Date.now() - idleStart;
    const cpu = (ticks: number) => (ticks / CLOCK_TICKS / (idleMs / 1000)) * 100;
    const cvmCpu = cpu(cpuTicks(pid) - cvmTicks);
    const threadsAfter = threadTicks(pid);
    const bareCpu = cpu(cpuTicks(bare.pid!) - bareTicks);
    const idleRequests = apiRequests(stack.emulator, requestsBefore);
    const idleKinds = requestKinds(stack.emulator, requestsBefore);
    const cvmRss = rssMiB(pid);
    const bareRss = rssMiB(bare.pid!);
    if (process.env.BENCH_HEAP_DIR) {
      cvm.proc.kill('SIGUSR2');
      await sleep(15_000);
    }
    log(`idle: ${cvmCpu.toFixed(1)} % CPU, ${cvmRss.toFixed(0)} MiB, ${idleRequests} API requests`);
    log(`idle memory: ${await memoryParts(cvm.opsPort)}`);
    log(`idle CPU by thread: ${threadShares(threadsBefore, threadsAfter, idleMs)}`);

    // Pushes for every tag, then every target's last poll set one interval back.
    const pushStart = Date.now();
    await pushAll(stack, tags.slice(0, o.cvs));
    const pushMs = Date.now() - pushStart;
    const redis = new Redis(REDIS_URL);
    const polledAt = String(Date.now() - POLL_INTERVAL_SECONDS * 1000);
    const targets = tags.slice(0, o.cvs).map((t) => `${stack.registry.host}/bench/scale:${t}`);
    const fields = targets.flatMap((t) => [t, polledAt]);
    await redis.hset(`${stack.prefix}:poll:polls`, ...fields);
    await redis.quit();
    const pollsAtPush = await metric(cvm.opsPort, 'cvm_polls_total');
    const pushWindowFrom = Date.now() - syncStart;
    await sleep(o.pushSeconds * 1000);
    const polls = (await metric(cvm.opsPort, 'cvm_polls_total')) - pollsAtPush;
    const pollsPerMinute = (polls / o.pushSeconds) * 60;
    log(`pushes delivered in ${pushMs} ms; ${polls} polls in ${o.pushSeconds} s`);
    await stopProcess(cvm.proc);
    log(
      `profile windows (ms since cvm serve started): first sync 0–${firstSyncMs}, idle ${idleFrom}–${idleFrom + idleMs}, pushes ${pushWindowFrom}–`,
    );

    const n = o.cvs.toLocaleString('en');
    // Measured after the first sync's wait whatever it found: say so when rollouts still ran.
    const notIdle = allSynced
      ? ''
      : ` NOT IDLE: the first sync had not ended (${synced} of ${n} synced), its rollouts still ran`;
    return [
      figure({
        name: 'scale.rss',
        value: cvmRss,
        unit: 'MiB',
        baseline: bareRss,
        baselineName: 'bare node idle RSS',
        target: 'value < 150 MiB',
        met: cvmRss < 150,
        details: [
          `cvm serve (all roles, node bin/cvm.js: the compiled dist/) with ${n} CVs and Deployments, after the first sync, ${(settling.ms / 1000).toFixed(0)} s of settling (RSS ${settling.fromMiB.toFixed(0)} → ${settling.toMiB.toFixed(0)} MiB) and ${o.idleSeconds} s idle; the same with one CV: ${aloneRss.toFixed(0)} MiB${notIdle}`,
        ],
      }),
      figure({
        name: 'scale.idle-cpu',
        value: cvmCpu,
        unit: '%',
        baseline: bareCpu,
        baselineName: 'bare node, same window',
        target: 'value < 1 %',
        met: cvmCpu < 1,
        details: [
          `% of one core over ${(idleMs / 1000).toFixed(0)} s (utime+stime); idle: no push, no change, no poll due (every repo:tag resolved by its sync within its ${POLL_INTERVAL_SECONDS} s interval); before it, ${(settling.ms / 1000).toFixed(0)} s of settling after the first sync at ${settling.cpu.toFixed(1)} %${notIdle}`,
        ],
      }),
      figure({
        name: 'scale.idle-api-requests',
        value: (idleRequests / idleMs) * 60_000,
        unit: 'req/min',
        baseline: null,
        baselineName: 'none (watches, not LISTs)',
        target: 'value < 60',
        met: (idleRequests / idleMs) * 60_000 < 60,
        details: [
          `${idleRequests} non-watch API requests in ${(idleMs / 1000).toFixed(0)} s idle${idleKinds ? `: ${idleKinds}` : ''}${notIdle}`,
        ],
      }),
      figure({
        name: 'scale.first-sync',
        value: firstSyncMs / 1000,
        unit: 's',
        baseline: singleMs / 1000,
        baselineName: 'one CV alone (cvm serve start to synced)',
        target: 'value < 120 s',
        met: allSynced && firstSyncMs < 120_000,
        details: [
          `${synced} of ${n} CVs synced (status observedGeneration + Deployment at the digest)${allSynced ? '' : ` when the ${o.firstSyncTimeoutSeconds} s wait ended`}; ${syncRequests} API requests (${(syncRequests / Math.max(synced, 1)).toFixed(1)} per CV synced)`,
        ],
      }),
      figure({
        name: 'scale.registry-requests',
        value: pollsPerMinute,
        unit: 'req/min',
        baseline: o.cvs,
        baselineName: 'repo:tags due for a poll in that minute without the pushes',
        target: 'value 0',
        met: polls === 0,
        details: [
          `registry requests by polling = cvm_polls_total (one HEAD each) over ${o.pushSeconds} s after a push for each of ${n} repo:tags (distribution webhooks, ${pushMs} ms) with each one's last poll set ${POLL_INTERVAL_SECONDS} s back`,
        ],
      }),
    ];
  } finally {
    bare.kill('SIGTERM');
    await stopStack(stack);
  }
}
