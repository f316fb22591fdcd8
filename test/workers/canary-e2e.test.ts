import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoreEvent } from '../kube-emulator/contract.js';
import {
  containerVersion,
  deployment,
  namespace,
  startCvmStack,
  type CvmStack,
} from '../support/cvm-stack.js';
import {
  requirePrometheus,
  startMetricsEndpoint,
  startPrometheus,
  waitForScrapedValues,
  type MetricsEndpoint,
  type TestPrometheus,
} from '../support/prometheus.js';
import { freePort } from '../support/redis-server.js';
import { waitFor } from '../support/wait-for.js';

// Canary end to end: the emulator (Deployments, Pods that crash-loop), docker-registry pushes
// with notifications, Redis, the workers in this process, and a real Prometheus scraping an
// endpoint whose values the test sets.

let stack: CvmStack;
let prometheus: TestPrometheus;
let metrics: MetricsEndpoint;

beforeAll(async () => {
  requirePrometheus();
  metrics = await startMetricsEndpoint();
  prometheus = await startPrometheus({ scrapeTargets: [metrics.hostPort] });
  stack = await startCvmStack({ env: { CVM_ROLLOUT_RECHECK_MS: '1000' } });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  await prometheus?.stop();
  await metrics?.stop();
});

const TRACK = 'cvm.dev/track';

/** Namespace `ns` with web-stable (4 replicas) and web-canary (0), and a Canary CV. */
async function canaryApp(ns: string, canary: Record<string, unknown>) {
  await stack.apply([
    namespace(ns),
    deployment(ns, 'web-stable', 'example.com/old/web:1', {
      app: 'web',
      replicas: 4,
      labels: { [TRACK]: 'stable' },
    }),
    deployment(ns, 'web-canary', 'example.com/old/web:1', {
      app: 'web',
      replicas: 0,
      labels: { [TRACK]: 'canary' },
    }),
  ]);
  await stack.apply([
    containerVersion(ns, 'web', {
      imageRepo: stack.repo,
      tag: ns,
      versionPattern: '^sha-[0-9a-f]{7}$',
      selector: { app: 'web' },
      container: 'api',
      pollIntervalSeconds: 0,
      strategy: { type: 'Canary', canary },
    }),
  ]);
}

/** A metric check on the error rate the test sets for `ns`. */
const errorRate = (ns: string, extra: Record<string, unknown> = {}) => ({
  name: 'error-rate',
  prometheus: { address: prometheus.url, query: `max(canary_error_rate{ns="${ns}"})` },
  successCondition: 'result < 0.05',
  intervalSeconds: 1,
  ...extra,
});

const imageOf = (d: any) =>
  d.spec.template.spec.containers.find((c: any) => c.name === 'api').image as string;

async function get(ns: string, name: string): Promise<any> {
  return JSON.parse(
    (await stack.kubectl(['get', 'deployment', name, '-n', ns, '-o', 'json'])).stdout,
  );
}

/** The replicas (canary/stable) the API server was given in `ns`, in order. */
function replicaTimeline(ns: string) {
  const seen: string[] = [];
  const current = { canary: 0, stable: 4 };
  const off = stack.emulator.store.subscribe((event: StoreEvent) => {
    const o = event.object as any;
    if (o.metadata?.namespace !== ns || !event.resource.startsWith('deployments')) return;
    const track = o.metadata.labels?.[TRACK] as 'canary' | 'stable' | undefined;
    if (!track || o.spec.replicas === current[track]) return;
    current[track] = o.spec.replicas;
    seen.push(`${track}=${o.spec.replicas}`);
  });
  return { seen, off };
}

async function events(ns: string): Promise<string[]> {
  return JSON.parse(
    (await stack.kubectl(['get', 'events', '-n', ns, '-o', 'json'])).stdout,
  ).items.map((e: any) => e.reason);
}

describe('Canary by replica share, judged by Prometheus', () => {
  it('a good version walks every step, then the stable workload takes it and the canary goes back to 0', async () => {
    metrics.set('canary_error_rate', 0.001, { ns: 'canary-good' });
    await waitForScrapedValues(prometheus.url, 'canary_error_rate{ns="canary-good"}', [0.001]);
    await canaryApp('canary-good', {
      steps: [
        { setWeight: 25 },
        { pause: { durationSeconds: 1 } },
        { analysis: {} },
        { setWeight: 50 },
        { analysis: {} },
      ],
      analysis: { metrics: [errorRate('canary-good', { count: 2 })] },
    });
    const t = replicaTimeline('canary-good');
    const digest = stack.push(['sha-c100001', 'canary-good']);
    // Every step as the API server stores it.
    const seenSteps = new Set<string>();
    const offSteps = stack.emulator.store.subscribe((event: StoreEvent) => {
      const o = event.object as any;
      const r = o.metadata?.namespace === 'canary-good' ? o.status?.rollout : undefined;
      if (event.resource.startsWith('containerversions') && r)
        seenSteps.add(`${r.step}/${r.steps} ${r.phase}`);
    });
    const cv = await stack.rolloutOf('canary-good', 'web', digest, 90_000);
    offSteps();
    t.off();
    expect(cv.status.lastRollout).toMatchObject({ result: 'Succeeded', version: 'sha-c100001' });
    expect(cv.status.currentDigest).toBe(digest);
    // canary 25% of 4 = 1, 50% = 2; then the stable workload back to 4 at the new image, the canary to 0.
    expect(t.seen).toEqual([
      'canary=1',
      'stable=3',
      'canary=2',
      'stable=2',
      'stable=4',
      'canary=0',
    ]);
    expect([...seenSteps]).toEqual(
      expect.arrayContaining(['2/6 Paused', '3/6 Analyzing', '5/6 Analyzing']),
    );
    const stable = await get('canary-good', 'web-stable');
    expect(imageOf(stable)).toBe(`${stack.repo}:sha-c100001@${digest}`);
    expect(stable.spec.replicas).toBe(4);
    expect((await get('canary-good', 'web-canary')).spec.replicas).toBe(0);
    const history = await stack.history('canary-good', 'web');
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({
      digest,
      result: 'Succeeded',
      previousImage: 'example.com/old/web:1',
    });
    expect(await events('canary-good')).toEqual(
      expect.arrayContaining(['CanaryWeightSet', 'RolloutPaused', 'AnalysisPassed']),
    );
    expect(await stack.metrics.registry.metrics()).toMatch(
      /cvm_canary_judgements_total\{result="Passed"\} [1-9]/,
    );
  }, 120_000);

  it('a bad metric aborts at the first analysis: the canary back to 0, the stable workload at full size, the digest remembered', async () => {
    metrics.set('canary_error_rate', 0.5, { ns: 'canary-bad' });
    await waitForScrapedValues(prometheus.url, 'canary_error_rate{ns="canary-bad"}', [0.5]);
    await canaryApp('canary-bad', {
      steps: [{ setWeight: 50 }, { analysis: {} }, { setWeight: 75 }],
      analysis: { metrics: [errorRate('canary-bad')] },
    });
    const t = replicaTimeline('canary-bad');
    const digest = stack.push(['sha-c200001', 'canary-bad']);
    const cv = await stack.rolloutOf('canary-bad', 'web', digest, 60_000);
    t.off();
    expect(cv.status.lastRollout).toMatchObject({
      result: 'RolledBack',
      message: expect.stringContaining('metric error-rate failed 1 of 1 measurement(s)'),
    });
    expect(cv.status.lastRollout.message).toContain('0.5');
    expect(t.seen).toEqual(['canary=2', 'stable=2', 'canary=0', 'stable=4']);
    expect(cv.status.failedDigests).toContain(digest);
    const stable = await get('canary-bad', 'web-stable');
    expect(imageOf(stable)).toBe('example.com/old/web:1');
    expect(stable.spec.replicas).toBe(4);
    expect(stable.status.readyReplicas).toBe(4);
    expect((await get('canary-bad', 'web-canary')).spec.replicas).toBe(0);
    expect(cv.status.conditions.find((c: any) => c.type === 'Degraded')).toMatchObject({
      status: 'True',
      reason: 'AnalysisFailed',
    });
    expect(await events('canary-bad')).toEqual(expect.arrayContaining(['AnalysisFailed']));

    // retry: a person asks for the failed digest again; it starts over (and fails again).
    await stack.kubectl(['annotate', 'cv', 'web', '-n', 'canary-bad', 'cvm.dev/request=retry:1']);
    const retried = await waitFor(async () => {
      const got = await stack.containerVersion('canary-bad', 'web');
      return got.status?.lastRequest?.value === 'retry:1' ? got : undefined;
    }, 'the retry to be handled');
    expect(retried.status.lastRequest).toMatchObject({ action: 'retry', result: 'Applied' });
    await waitFor(
      async () => (await stack.history('canary-bad', 'web')).length === 2,
      'the retried rollout to be recorded',
      { timeoutMs: 60_000 },
    );
    expect((await stack.history('canary-bad', 'web'))[0]).toMatchObject({
      digest,
      result: 'RolledBack',
    });
  }, 120_000);

  it('a manual pause waits until a person promotes; promote skips the remaining steps', async () => {
    metrics.set('canary_error_rate', 0, { ns: 'canary-manual' });
    await canaryApp('canary-manual', {
      steps: [{ setWeight: 50 }, { pause: {} }, { setWeight: 75 }, { pause: {} }],
    });
    const t = replicaTimeline('canary-manual');
    const digest = stack.push(['sha-c300001', 'canary-manual']);
    await waitFor(
      async () =>
        (await stack.containerVersion('canary-manual', 'web')).status?.rollout?.phase === 'Paused',
      'the rollout to pause',
      { timeoutMs: 30_000 },
    );
    await new Promise((r) => setTimeout(r, 2000));
    const paused = await stack.containerVersion('canary-manual', 'web');
    expect(paused.status.rollout).toMatchObject({
      phase: 'Paused',
      step: 2,
      steps: 5,
      canary: { weight: 50, canaryReplicas: 2, actualWeight: 50, total: 4 },
    });
    // resume: on to the next step only.
    await stack.kubectl(['annotate', 'cv', 'web', '-n', 'canary-manual', 'cvm.dev/request=resume']);
    await waitFor(
      async () => {
        const r = (await stack.containerVersion('canary-manual', 'web')).status?.rollout;
        return r?.phase === 'Paused' && r.step === 4;
      },
      'the rollout to pause again at 75%',
      { timeoutMs: 30_000 },
    );
    await stack.kubectl([
      'annotate',
      'cv',
      'web',
      '-n',
      'canary-manual',
      '--overwrite',
      'cvm.dev/request=promote',
    ]);
    const cv = await stack.rolloutOf('canary-manual', 'web', digest, 60_000);
    t.off();
    expect(cv.status.lastRollout.result).toBe('Succeeded');
    expect(t.seen).toEqual([
      'canary=2',
      'stable=2',
      'canary=3',
      'stable=1',
      'stable=4',
      'canary=0',
    ]);
    expect(await events('canary-manual')).toEqual(expect.arrayContaining(['RolloutPromoted']));
    expect(await stack.metrics.registry.metrics()).toMatch(
      /cvm_rollout_requests_total\{action="promote",result="Applied"\} [1-9]/,
    );
  }, 120_000);

  it('a newer push while a canary waits for a person supersedes it: rolled back (no digest blamed), the new one starts', async () => {
    await canaryApp('canary-next', { steps: [{ setWeight: 50 }, { pause: {} }] });
    const first = stack.push(['sha-c600001', 'canary-next']);
    const pausedOn = async (digest: string) =>
      waitFor(
        async () => {
          const r = (await stack.containerVersion('canary-next', 'web')).status?.rollout;
          return r?.phase === 'Paused' && r.digest === digest ? r : undefined;
        },
        `the canary of ${digest} to pause`,
        { timeoutMs: 30_000 },
      );
    await pausedOn(first);
    const second = stack.push(['sha-c600002', 'canary-next']);
    const r = await pausedOn(second);
    expect(r.canary).toMatchObject({ weight: 50, canaryReplicas: 2 });
    const cv = await stack.containerVersion('canary-next', 'web');
    expect(cv.status.failedDigests ?? []).not.toContain(first);
    const history = await stack.history('canary-next', 'web');
    expect(history[0]).toMatchObject({
      digest: first,
      result: 'Superseded',
      message: expect.stringContaining(`the tag moved on to ${second}`),
    });
    expect(imageOf(await get('canary-next', 'web-canary'))).toContain(second);
    expect(imageOf(await get('canary-next', 'web-stable'))).toBe('example.com/old/web:1');
  }, 90_000);

  it('a canary that crash-loops is judged by its restarts and aborted', async () => {
    stack.emulator.setCrashing(['sha-c400001']);
    await canaryApp('canary-crash', {
      steps: [{ setWeight: 25 }, { pause: { durationSeconds: 30 } }],
      analysis: { maxRestarts: 1 },
    });
    const digest = stack.push(['sha-c400001', 'canary-crash']);
    const cv = await stack.rolloutOf('canary-crash', 'web', digest, 60_000);
    expect(cv.status.lastRollout).toMatchObject({
      result: 'RolledBack',
      message: expect.stringMatching(
        /restarted \d+ time\(s\); strategy.canary.analysis.maxRestarts allows 1/,
      ),
    });
    expect((await get('canary-crash', 'web-stable')).spec.replicas).toBe(4);
    expect((await get('canary-crash', 'web-canary')).spec.replicas).toBe(0);
  }, 90_000);

  it('a Prometheus that does not answer: Ready=False naming the field, nothing is patched, no digest blamed', async () => {
    const nowhere = `http://127.0.0.1:${await freePort()}`;
    await canaryApp('canary-noprom', {
      steps: [{ setWeight: 25 }, { analysis: {} }],
      analysis: {
        metrics: [
          {
            name: 'errors',
            prometheus: { address: nowhere, query: 'up', timeoutSeconds: 2 },
            successCondition: 'result == 1',
          },
        ],
      },
    });
    const digest = stack.push(['sha-c500001', 'canary-noprom']);
    const cv = await waitFor(async () => {
      const got = await stack.containerVersion('canary-noprom', 'web');
      return got.status?.conditions?.some((c: any) => c.reason === 'InvalidSpec') ? got : undefined;
    }, 'the CV to be refused');
    expect(cv.status.conditions.find((c: any) => c.type === 'Ready')).toMatchObject({
      status: 'False',
      reason: 'InvalidSpec',
      message: expect.stringContaining(
        `spec.strategy.canary.analysis.metrics[0].prometheus.address: `,
      ),
    });
    expect(cv.status.failedDigests ?? []).not.toContain(digest);
    expect(cv.status.rollout).toBeUndefined();
    expect((await get('canary-noprom', 'web-canary')).spec.replicas).toBe(0);
    expect(imageOf(await get('canary-noprom', 'web-canary'))).toBe('example.com/old/web:1');
  }, 60_000);
});
