// `npm run demo`: the whole push path on one machine, told step by step. It starts the Kubernetes
// API emulator (the cluster), Redis (the machine's or a private one), `cvm serve` and a local
// docker-registry that notifies cvm; creates a Deployment and a ContainerVersion; pushes two image
// versions with skopeo and shows each one reach the Deployment, pinned by digest; then a blue-green
// act (scripts/demo-blue-green.ts) switches a Service from one colour to the other. It stops
// everything it started when done (exit 0), on Ctrl-C (exit 130), SIGTERM (143), SIGHUP or the
// death of its parent process (129), or when a step times out (exit 1). `--keep` keeps everything
// running after the story until Ctrl-C (then exit 0).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { kubectl } from '../test/kube-emulator/controllers/kubectl.js';
import { EMULATOR_TOKEN } from '../test/kube-emulator/kubeconfig.js';
import { startKubeEmulator, type KubeEmulator } from '../test/kube-emulator/index.js';
import { DockerRegistry } from '../test/support/docker-registry.js';
import { skopeoPush, writeOciImage } from '../test/support/oci-layout.js';
import { freePort } from '../test/support/redis-server.js';
import { waitFor } from '../test/support/wait-for.js';
import { blueGreenAct } from './demo-blue-green.js';
import { DemoFailure } from './demo-failure.js';
import {
  REPO_ROOT,
  CvmServe,
  chooseRedis,
  missingTools,
  redisProblem,
  type CvmLogLine,
  type DemoRedis,
} from './demo-parts.js';

const NS = 'shop';
const NAME = 'api';
const VERSIONS = ['sha-1a2b3c4', 'sha-5d6e7f8'] as const;
const VERSION_PATTERN = '^sha-[0-9a-f]{7}$';
const PLACEHOLDER_IMAGE = 'example.com/shop/api:bootstrap';
const STEP_TIMEOUT_MS = 30_000;
/** The numbers of the acts after the pushes of VERSIONS. */
const ACT = {
  blueGreen: VERSIONS.length + 3,
  whereToLook: VERSIONS.length + 4,
  stopping: VERSIONS.length + 5,
} as const;
/**
 * `kubectl get cv` prints the CRD's printer columns (repo, tag, version, ready, age); the demo
 * asks for the last rollout's result instead of the repository and the age.
 */
const CV_COLUMNS =
  'custom-columns=NAME:.metadata.name,TAG:.spec.tag,VERSION:.status.currentVersion,' +
  'READY:.status.conditions[?(@.type=="Ready")].status,LAST ROLLOUT:.status.lastRollout.result';

const { values: flags } = parseArgs({
  options: { keep: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h' } },
});

// ── output ──────────────────────────────────────────────────────────────────────────────────────
const t0 = Date.now();
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const write = (text: string) => process.stdout.write(`${text}\n`);
/** Once the demo is stopping, the story (still running until its parts vanish) says no more. */
let muted = false;
const out = (text = '') => {
  if (!muted) write(text);
};
const stamp = () => `${((Date.now() - t0) / 1000).toFixed(1)}s`.padStart(6);
/** A line of the story, with the time since the demo started. */
const say = (text: string) => out(`  ${stamp()}  ${text}`);
/** A continuation line (no time). */
const also = (text: string) => out(`          ${text}`);
const heading = (n: number, text: string) => out(`\n${n}. ${text}`);
const short = (digest: string) => `${digest.slice(0, 'sha256:'.length + 12)}…`;

// ── what the demo started, stopped in reverse order ──────────────────────────────────────────────
/** What the demo started; `done` says what stopping it did. */
const started: { done: string; stop: () => Promise<unknown> }[] = [];
let ending: Promise<never> | undefined;
let cvm: CvmServe | undefined;

let exitCode = 0;
let interrupted = false;
/** The story ran to its end (with `--keep`, a Ctrl-C is then the expected way out: exit 0). */
let storyDone = false;

/** Stops what the demo started, newest first, and exits with `code` (a Ctrl-C meanwhile: 130). */
function end(code: number): Promise<never> {
  if (!ending) exitCode = code;
  ending ??= (async () => {
    muted = true;
    const report = (text: string) => write(`  ${stamp()}  ${text}`);
    let clean = true;
    if (started.length > 0) {
      write(`\n${storyDone ? `${ACT.stopping}. ` : ''}Stopping everything the demo started`);
      for (const part of started.reverse()) {
        try {
          await part.stop();
          report(part.done);
        } catch (error) {
          clean = false;
          report(`failed: ${part.done}: ${(error as Error).message}`);
        }
      }
    }
    write(clean ? `\n${exitCode === 0 ? 'Done: nothing' : 'Nothing'} is left running.` : '');
    process.exit(exitCode);
  })();
  return ending;
}

let interruptedAt = 0;
process.on('SIGINT', () => {
  // One Ctrl-C can arrive twice (from the terminal and relayed by npm/tsx): a second one counts
  // only a second later.
  if (interrupted && Date.now() - interruptedAt < 1_000) return;
  if (interrupted) {
    out('\nSecond Ctrl-C: killing cvm serve and exiting now.');
    cvm?.kill();
    process.exit(130);
  }
  out('\nCtrl-C: stopping everything the demo started (Ctrl-C again to exit at once).');
  interrupted = true;
  interruptedAt = Date.now();
  const code = flags.keep && storyDone ? 0 : 130;
  if (ending) exitCode = code;
  void end(code);
});
process.on('SIGTERM', () => void end(143));
process.on('SIGHUP', () => void end(129));
// A closed terminal or pipe must not stop the clean-up half-way.
process.stdout.on('error', () => undefined);
// Whoever started the demo (npm, a shell, a test) may die without passing a signal on: then the
// demo stops too, instead of running on as an orphan.
const parentPid = process.ppid;
setInterval(() => {
  if (process.ppid !== parentPid) void end(129);
}, 500).unref();

// ── the story ───────────────────────────────────────────────────────────────────────────────────
interface Parts {
  emulator: KubeEmulator;
  redis: DemoRedis;
  cvm: CvmServe;
  registry: DockerRegistry;
  webhookPort: number;
  opsPort: number;
  opsToken: string;
  repo: string;
}

async function main(): Promise<void> {
  if (flags.help) {
    out(
      'npm run demo [-- --keep]   the push path end to end; --keep: keep it running until Ctrl-C',
    );
    return;
  }
  out('cvm demo: a registry push rolls out a Kubernetes Deployment, pinned by digest;');
  out('then one switches a Service from blue to green (the BlueGreen strategy).');
  out('Everything runs on this machine and stops at the end (Ctrl-C stops it any time).');

  const redisMissing = await redisProblem();
  const missing = [...missingTools(), ...(redisMissing ? [redisMissing] : [])];
  if (missing.length > 0) {
    out('\nThe demo needs a few programs this machine does not have:');
    for (const problem of missing) out(`  - ${problem}`);
    out('(.ci/run installs the Debian packages the tests and the demo use.)');
    process.exit(1);
  }

  // Every temp file of the demo (kubeconfig, registry storage, image layouts) goes under one
  // directory, removed at the end.
  const workDir = mkdtempSync(join(tmpdir(), 'cvm-demo-'));
  process.env.TMPDIR = workDir;
  started.push({
    done: `removed its temp files (${workDir})`,
    stop: () => Promise.resolve(rmSync(workDir, { recursive: true, force: true })),
  });

  const parts = await startParts();
  await createWorkload(parts);
  for (const [i, version] of VERSIONS.entries()) await pushVersion(parts, i + 1, version);
  await showHistory(parts);
  await blueGreen(parts);
  await whereToLook(parts);
  storyDone = true;
  if (flags.keep) {
    out('\n--keep: everything keeps running. Ctrl-C stops it and cleans up.');
    await new Promise(() => undefined);
  }
  await end(0);
}

async function startParts(): Promise<Parts> {
  heading(1, 'Starting the parts a cluster and CI would provide');
  const emulator = await startKubeEmulator({ port: 0, timeScale: 1, podReadySeconds: 1 });
  started.push({ done: `stopped the Kubernetes emulator`, stop: () => emulator.stop() });
  say(`Kubernetes API emulator   ${emulator.url}`);
  also(`to look with kubectl: export KUBECONFIG=${emulator.kubeconfigPath}`);
  const crd = await kubectl(emulator.kubeconfigPath, [
    'apply',
    '-f',
    join(REPO_ROOT, 'infra/kubernetes/crd.yaml'),
  ]);
  if (crd.code !== 0) throw new DemoFailure(`kubectl apply of the CRD failed: ${crd.stderr}`);
  await kubectl(emulator.kubeconfigPath, [
    'wait',
    '--for=condition=established',
    'crd/containerversions.cvm.dev',
    '--timeout=20s',
  ]);
  say('ContainerVersion CRD installed (infra/kubernetes/crd.yaml)');

  const prefix = `demo-${randomBytes(4).toString('hex')}`;
  const redis = await chooseRedis(prefix);
  if (!redis) {
    throw new DemoFailure(
      'Redis: nothing answers on 127.0.0.1:6379 and redis-server is not installed. ' +
        'Install it (sudo apt-get install redis-server) or start Redis on 127.0.0.1:6379.',
    );
  }
  started.push({
    done: redis.privatePort
      ? 'stopped the private redis-server'
      : `deleted the demo's keys (${prefix}:*) from Redis`,
    stop: () => redis.stop(),
  });
  say(`Redis                     ${redis.description}`);

  const [webhookPort, opsPort] = [await freePort(), await freePort()];
  const opsToken = randomBytes(12).toString('hex');
  const notifyToken = randomBytes(16).toString('hex');
  cvm = CvmServe.start({
    CVM_KUBECONFIG: emulator.kubeconfigPath,
    CVM_REDIS_URL: redis.url,
    CVM_QUEUE_PREFIX: prefix,
    CVM_WEBHOOK_PORT: String(webhookPort),
    CVM_OPS_PORT: String(opsPort),
    CVM_LISTEN_HOST: '127.0.0.1',
    CVM_DISTRIBUTION_TOKENS: notifyToken,
    CVM_OPS_TOKEN: opsToken,
    CVM_LEASE_DURATION_SECONDS: '5',
    CVM_POLL_TICK_MS: '500',
    // A rollout being watched holds up the stop until it ends or this passes.
    CVM_SHUTDOWN_TIMEOUT_MS: '5000',
    // debug: the receiver and router say what they did with each push event.
    CVM_LOG_LEVEL: 'debug',
  });
  const serve = cvm;
  say(
    `cvm serve                 starting (pid ${serve.pid}; tsx compiles the sources, a few seconds)`,
  );
  started.push({
    done: `stopped cvm serve (SIGTERM to pid ${serve.pid})`,
    stop: () => serve.stop(),
  });
  void serve.exited().then((code) => {
    if (ending) return;
    out(`\ncvm serve exited unexpectedly (code ${code}). Its last lines:`);
    for (const text of serve.recent.slice(-15)) also(text);
    void end(1);
  });
  const leading = serve.nextLog((l) => l.msg === 'leading: reconciler started');
  await waitFor(() => serve.recent.some((t) => t.includes('"cvm started"')), 'cvm serve to start', {
    timeoutMs: STEP_TIMEOUT_MS,
    intervalMs: 100,
  }).catch(() => {
    throw new DemoFailure(`cvm serve did not start. Its last lines:\n${serve.recent.join('\n')}`);
  });
  await withTimeout(leading, 'cvm to lead the reconciler (its Lease in the emulator)');
  say(
    'cvm serve                 started: receiver, workers and reconciler (leader) in one process',
  );
  also(`webhooks  http://127.0.0.1:${webhookPort}/webhooks/distribution`);
  also(`ops       http://127.0.0.1:${opsPort}/admin/queues  (queue board; any user name,`);
  also(`          password = the ops token ${opsToken})`);
  also(`          http://127.0.0.1:${opsPort}/metrics  (Authorization: Bearer <ops token>)`);

  const registry = await DockerRegistry.start({
    url: `http://127.0.0.1:${webhookPort}/webhooks/distribution`,
    headers: { Authorization: [`Bearer ${notifyToken}`] },
  });
  started.push({
    done: 'stopped docker-registry',
    // A Ctrl-C in the terminal reaches docker-registry too; once its port is closed it is gone.
    stop: () => Promise.race([registry.stop(), portClosed(registry.port)]),
  });
  say(`docker-registry           http://${registry.host}`);
  also(`its notifications go to cvm's /webhooks/distribution with a bearer token`);
  return {
    emulator,
    redis,
    cvm: serve,
    registry,
    webhookPort,
    opsPort,
    opsToken,
    repo: `${registry.host}/shop/api`,
  };
}

async function createWorkload(parts: Parts): Promise<void> {
  heading(2, 'Creating a Deployment and the ContainerVersion that follows its image');
  const k = (args: string[], input?: string) =>
    kubectl(parts.emulator.kubeconfigPath, args, input === undefined ? {} : { input });
  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: NAME, namespace: NS, labels: { app: NAME } },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: NAME } },
      template: {
        metadata: { labels: { app: NAME } },
        spec: { containers: [{ name: NAME, image: PLACEHOLDER_IMAGE }] },
      },
    },
  };
  const created = await k(
    ['apply', '--validate=false', '-f', '-'],
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } }, deployment],
    }),
  );
  if (created.code !== 0) throw new DemoFailure(`kubectl apply failed: ${created.stderr}`);
  say(`namespace ${NS}, Deployment ${NS}/${NAME}: 2 replicas of ${PLACEHOLDER_IMAGE}`);
  await kubectlShown(parts, ['rollout', 'status', `deployment/${NAME}`, '-n', NS, '--timeout=30s']);

  const cv = {
    apiVersion: 'cvm.dev/v1',
    kind: 'ContainerVersion',
    metadata: { name: NAME, namespace: NS },
    spec: {
      imageRepo: parts.repo,
      tag: 'prod',
      versionPattern: VERSION_PATTERN,
      selector: { app: NAME },
      container: NAME,
      pollIntervalSeconds: 0,
    },
  };
  const yaml = stringify(cv);
  also('$ kubectl apply -f - <<EOF');
  for (const text of yaml.trimEnd().split('\n')) also(`  ${text}`);
  also('EOF');
  const applied = await k(['apply', '-f', '-'], yaml);
  if (applied.code !== 0)
    throw new DemoFailure(`kubectl apply of the CV failed: ${applied.stderr}`);
  for (const text of applied.stdout.trimEnd().split('\n')) also(text);
  say(`"the container ${NAME} of the workloads labelled app=${NAME} runs what ${parts.repo}:prod`);
  also(`points to, named by its tag matching ${VERSION_PATTERN}; no polling (push only)"`);
  const seen = await withTimeout(
    waitFor(
      async () => {
        const got = await getCv(parts);
        return got?.status?.observedGeneration === 1 ? got : undefined;
      },
      'cvm to observe the new ContainerVersion',
      { timeoutMs: STEP_TIMEOUT_MS, intervalMs: 100 },
    ),
    'cvm to observe the new ContainerVersion',
  );
  const ready = seen.status?.conditions?.find((c) => c.type === 'Ready');
  say(
    `cvm saw the new ContainerVersion: Ready=${ready?.status ?? '?'}${ready?.reason ? ` (${ready.reason})` : ''}`,
  );
  if (ready?.message) also(`${ready.message}.`);
  also('This is expected: prod does not exist in the registry yet, so the ContainerVersion waits');
  also('for the first push. Its first sync keeps retrying meanwhile; that is why the first');
  also("rollout's trigger reads `sync` (the push event joins the waiting sync).");
}

async function pushVersion(parts: Parts, n: number, version: string): Promise<void> {
  heading(
    2 + n,
    `CI pushes version ${n}: ${version}, then points prod at it (skopeo copy to the registry)`,
  );
  const before = imageOf(await getDeployment(parts));
  const image = writeOciImage(version, {
    files: { 'app/version.txt': `${version}\n` },
    created: new Date().toISOString(),
  });
  const digest = image.manifestDigest;
  const expected = `${parts.repo}:${version}@${digest}`;

  const narrated = new Set<string>();
  /** Says `text` (and the continuation lines) the first time `key` happens. */
  const once = (key: string, text: string, ...more: string[]) => {
    if (narrated.has(key)) return;
    narrated.add(key);
    say(text);
    for (const line of more) also(line);
  };
  const off = parts.cvm.onLog((l: CvmLogLine) => {
    const tagOf = (img: unknown) => String(img).split(':').pop();
    if (l.msg === 'push event routed') {
      once(
        `routed ${String(l.image)}`,
        `registry → cvm: push of shop/api:${tagOf(l.image)} received, routed to ContainerVersion ${NS}/${NAME}`,
      );
    } else if (l.msg === 'push event followed by no ContainerVersion') {
      once(
        `ignored ${String(l.image)}`,
        `registry → cvm: push of shop/api:${tagOf(l.image)} received (no ContainerVersion follows that tag)`,
      );
    } else if (l.msg === 'tag resolved' && l.digest === digest) {
      once(
        'resolved',
        `cvm asked the registry: prod is ${short(digest)} (a webhook is only a hint)`,
      );
      if (l.trigger === 'sync') {
        also("(in the CV's first sync, which was waiting to retry since prod did not exist yet:");
        also('the push event joined it, as a CV has one rollout job at a time)');
      }
    } else if (l.msg === 'rollout failed') {
      once('failed', `rollout failed: ${String(l.message)}`);
    }
  });

  try {
    const pushStart = Date.now();
    for (const tag of [version, 'prod']) {
      also(`$ skopeo copy oci:… docker://${parts.repo}:${tag}`);
      skopeoPush(image, `${parts.repo}:${tag}`);
    }
    const pushedAt = Date.now();
    say(`pushed ${short(digest)} as ${version} and prod (${seconds(pushedAt - pushStart)})`);

    let patchedAt: number | undefined;
    let rolloutStatus: ReturnType<typeof kubectl> | undefined;
    const cv = await withTimeout(
      waitFor(
        async () => {
          const [got, dep] = await Promise.all([getCv(parts), getDeployment(parts)]);
          const last = got?.status?.lastRollout;
          if (last?.digest === digest) {
            once(
              'validated',
              `validated ${short(digest)}: platform, regression and age checks passed;`,
              `named it ${last.version} (its tag matching ${VERSION_PATTERN})`,
            );
          }
          if (imageOf(dep) === expected && patchedAt === undefined) {
            patchedAt = Date.now();
            once(
              'patched',
              `patched Deployment ${NS}/${NAME}: container ${NAME} =`,
              expected,
              `(was ${before}); push to patch: ${seconds(patchedAt - pushedAt)}`,
            );
            rolloutStatus = kubectl(parts.emulator.kubeconfigPath, [
              'rollout',
              'status',
              `deployment/${NAME}`,
              '-n',
              NS,
              '--timeout=30s',
            ]);
          }
          return last?.digest === digest && last.result !== 'Progressing' ? got : undefined;
        },
        `the rollout of ${version}`,
        { timeoutMs: STEP_TIMEOUT_MS, intervalMs: 100 },
      ),
      `the CV's lastRollout to finish for ${version} (${short(digest)})`,
    );
    const last = cv.status!.lastRollout!;
    if (last.result !== 'Succeeded') {
      throw new DemoFailure(`the rollout of ${version} ended ${last.result}: ${last.message}`);
    }
    const dep = await getDeployment(parts);
    const took = last.finishedAt ? Date.parse(last.finishedAt) - Date.parse(last.startedAt) : NaN;
    say(
      `rolled out: ${dep?.status?.updatedReplicas ?? '?'}/${dep?.spec?.replicas ?? '?'} replicas updated and ready ` +
        `in ${Number.isNaN(took) ? '?' : seconds(took)}; push to running: ${seconds(Date.now() - pushedAt)}`,
    );
    if (rolloutStatus) {
      const result = await rolloutStatus;
      also(
        `$ kubectl rollout status deployment/${NAME} -n ${NS}   # started when the patch landed`,
      );
      for (const text of collapse(result.stdout)) also(text);
    }
    await kubectlShown(parts, ['get', 'cv', NAME, '-n', NS, `-o=${CV_COLUMNS}`], {
      shown: `kubectl get cv ${NAME} -n ${NS} -o custom-columns=NAME:…,TAG:…,VERSION:…,READY:…,LAST ROLLOUT:…`,
    });
  } finally {
    off();
  }
}

async function showHistory(parts: Parts): Promise<void> {
  const cm = await getJson<{ data?: Record<string, string> }>(
    parts,
    `/api/v1/namespaces/${NS}/configmaps/${NAME}-history`,
  );
  const entries = JSON.parse(cm?.data?.['history.json'] ?? '[]') as {
    version: string;
    digest: string;
    result: string;
    trigger: string;
    startedAt: string;
    finishedAt: string;
  }[];
  say(`history (ConfigMap ${NS}/${NAME}-history, newest first):`);
  const rows = [
    ['VERSION', 'RESULT', 'TRIGGER', 'FINISHED', 'TOOK', 'DIGEST'],
    ...entries.map((e) => [
      e.version,
      e.result,
      e.trigger,
      e.finishedAt,
      seconds(Date.parse(e.finishedAt) - Date.parse(e.startedAt)),
      short(e.digest),
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const row of rows) also(row.map((cell, i) => cell.padEnd(widths[i]!)).join('  '));
}

async function blueGreen(parts: Parts): Promise<void> {
  heading(
    ACT.blueGreen,
    'Blue-green: the new version starts on the idle colour, then a Service switches to it',
  );
  // A failure from here on is about storefront/web, not shop/api.
  lastCv = undefined;
  await blueGreenAct({
    story: {
      say,
      also,
      kubectl: (args, shown) => kubectlShown(parts, args, shown === undefined ? {} : { shown }),
    },
    emulator: parts.emulator,
    cvm: parts.cvm,
    registryHost: parts.registry.host,
    stepTimeoutMs: STEP_TIMEOUT_MS,
    cvColumns: CV_COLUMNS,
  });
}

async function whereToLook(parts: Parts): Promise<void> {
  heading(ACT.whereToLook, 'Where to look');
  const metrics = await fetch(`http://127.0.0.1:${parts.opsPort}/metrics`, {
    headers: { authorization: `Bearer ${parts.opsToken}` },
  })
    .then((r) => r.text())
    .catch(() => '');
  const wanted = /^cvm_(rollouts_total|push_events_enqueued_total)\{/;
  const samples = metrics.split('\n').filter((l) => wanted.test(l));
  say(`GET http://127.0.0.1:${parts.opsPort}/metrics (ops token) said, among others:`);
  for (const sample of samples) also(sample);
  say('kubectl shows the columns a real API server prints (the CRD declares the CV ones):');
  await kubectlShown(parts, ['get', 'cv', '-A']);
  await kubectlShown(parts, [
    'get',
    'events',
    '-n',
    NS,
    '--field-selector',
    `involvedObject.kind=ContainerVersion,involvedObject.name=${NAME}`,
  ]);
  also('(the DigestNotFound warning is from before the first push, when prod did not exist yet)');
  say(
    flags.keep
      ? 'to look around while it runs:'
      : 'to look around (these ran only during the demo; `npm run demo -- --keep` keeps them up):',
  );
  also(`export KUBECONFIG=${parts.emulator.kubeconfigPath}`);
  also(`kubectl get cv,deploy,pods -n ${NS}; kubectl describe cv ${NAME} -n ${NS}`);
  also(`kubectl get events -n ${NS}     # RolloutStarted, RolloutSucceeded`);
  also('kubectl get cv,deploy,svc,endpoints -n storefront; kubectl describe cv web -n storefront');
  also('kubectl get events -n storefront   # PreviewSwitched, TrafficSwitched, ScaledDown');
  also(`http://127.0.0.1:${parts.opsPort}/admin/queues   queue board (password ${parts.opsToken})`);
  also(`curl http://${parts.registry.host}/v2/shop/api/tags/list`);
  also('the design: docs/design.md (decisions: docs/adr; how to run it: README.md)');
}

// ── helpers ─────────────────────────────────────────────────────────────────────────────────────
/** `kubectl …` shown as typed (KUBECONFIG exported), with its output. */
async function kubectlShown(
  parts: Parts,
  args: string[],
  options: { shown?: string } = {},
): Promise<void> {
  also(`$ ${options.shown ?? `kubectl ${args.join(' ')}`}`);
  const result = await kubectl(parts.emulator.kubeconfigPath, args);
  for (const text of collapse(result.stdout + result.stderr)) also(text);
}

/** Output lines without repeats of the line before (kubectl rollout status repeats itself). */
const collapse = (text: string) =>
  text
    .trimEnd()
    .split('\n')
    .filter((line, i, all) => i === 0 || line !== all[i - 1]);

/** Resolves once nothing accepts connections on 127.0.0.1:`port` (checked every 100 ms). */
async function portClosed(port: number): Promise<void> {
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      const done = (answer: boolean) => {
        socket.destroy();
        resolve(answer);
      };
      socket.once('connect', () => done(true));
      socket.once('error', () => done(false));
    });
    if (!open) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function getJson<T>(parts: Parts, path: string): Promise<T | undefined> {
  const response = await fetch(`${parts.emulator.url}${path}`, {
    headers: { authorization: `Bearer ${EMULATOR_TOKEN}` },
  });
  if (response.status === 404) return undefined;
  if (!response.ok) throw new Error(`GET ${path}: ${response.status}`);
  return (await response.json()) as T;
}

interface CvStatus {
  observedGeneration?: number;
  currentVersion?: string;
  lastEvent?: { source: string; receivedAt: string };
  lastRollout?: {
    version: string;
    digest: string;
    startedAt: string;
    finishedAt?: string;
    result: string;
    message: string;
  };
  conditions?: { type: string; status: string; reason: string; message: string }[];
}
let lastCv: { status?: CvStatus } | undefined;
async function getCv(parts: Parts) {
  lastCv = await getJson<{ status?: CvStatus }>(
    parts,
    `/apis/cvm.dev/v1/namespaces/${NS}/containerversions/${NAME}`,
  );
  return lastCv;
}

/** A cvm JSON log line as `time level msg: error`, other fields dropped. */
function readableLog(text: string): string {
  try {
    const line = JSON.parse(text) as {
      time?: string;
      level?: number;
      msg?: string;
      err?: { message?: string };
    };
    const level = line.level === 40 ? 'warn' : line.level === 50 ? 'error' : 'fatal';
    return `${line.time ?? ''} ${level} ${line.msg ?? ''}${line.err?.message ? `: ${line.err.message}` : ''}`;
  } catch {
    return text;
  }
}

/** The status of a CV in a few lines, as `kubectl describe` would put it. */
function describeStatus(status: CvStatus): string[] {
  const last = status.lastRollout;
  return [
    `current version: ${status.currentVersion ?? '(none yet)'}`,
    ...(last
      ? [
          `last rollout: ${last.version} ${short(last.digest)} ${last.result} since ${last.startedAt}` +
            (last.message ? `: ${last.message}` : ''),
        ]
      : []),
    ...(status.lastEvent
      ? [`last push event: ${status.lastEvent.source} at ${status.lastEvent.receivedAt}`]
      : []),
    ...(status.conditions ?? []).map(
      (c) => `${c.type}=${c.status} (${c.reason})${c.message ? `: ${c.message}` : ''}`,
    ),
  ];
}

interface DeploymentView {
  spec?: { replicas?: number; template?: { spec?: { containers?: { image?: string }[] } } };
  status?: { updatedReplicas?: number; readyReplicas?: number };
}
const getDeployment = (parts: Parts) =>
  getJson<DeploymentView>(parts, `/apis/apps/v1/namespaces/${NS}/deployments/${NAME}`);
const imageOf = (d: DeploymentView | undefined) => d?.spec?.template?.spec?.containers?.[0]?.image;

/** `promise`, or a DemoFailure naming what the demo waited for (waitFor's own timeout). */
async function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(new DemoFailure(`timed out after ${seconds(STEP_TIMEOUT_MS)} waiting for ${what}`)),
      STEP_TIMEOUT_MS + 1_000,
    );
  });
  try {
    return await Promise.race([promise, late]);
  } catch (error) {
    if (error instanceof DemoFailure) throw error;
    const message = (error as Error).message;
    if (message.startsWith('timed out')) {
      throw new DemoFailure(`timed out after ${seconds(STEP_TIMEOUT_MS)} waiting for ${what}`);
    }
    throw new DemoFailure(`while waiting for ${what}: ${message}`);
  } finally {
    clearTimeout(timer);
  }
}

main().catch(async (error: unknown) => {
  // A Ctrl-C also reaches skopeo and kubectl, whose failure may land here before the signal
  // handler runs (a push blocks the event loop): give the handler its turn first.
  await new Promise((resolve) => setTimeout(resolve, 200));
  if (ending) return ending;
  out(
    `\n✗ ${error instanceof DemoFailure ? error.message : String((error as Error).stack ?? error)}`,
  );
  if (lastCv?.status) {
    out(`  The ContainerVersion ${NS}/${NAME} when it stopped:`);
    for (const text of describeStatus(lastCv.status)) out(`    ${text}`);
  }
  const complaints = (cvm?.recent ?? []).filter((t) => /"level":(40|50|60)/.test(t)).slice(-8);
  if (complaints.length > 0) {
    out("  cvm's last warnings and errors:");
    for (const text of complaints) out(`    ${readableLog(text)}`);
  }
  return end(1);
});
