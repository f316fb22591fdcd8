import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  containerVersion,
  deployment,
  namespace,
  startCvmStack,
  type CvmStack,
} from '../support/cvm-stack.js';
import { startCvmProcess, type CvmProcess } from '../support/cvm-process.js';
import { EMULATOR_TOKEN } from '../kube-emulator/kubeconfig.js';
import { waitFor } from '../support/wait-for.js';

let stack: CvmStack;
const processes: ChildProcess[] = [];

// The job lock is a minute: a rollout that continues within seconds after its worker died was
// not taken over through an expired lock (which takes lock + stalled check), but because a
// waiting rollout holds no lock at all.
const LOCK_MS = 60_000;
const WITHIN_SECONDS = 25_000;

beforeAll(async () => {
  // Pods take 30 emulated s (3 real s) to become ready, so a rollout waits when its worker dies.
  stack = await startCvmStack({
    workers: false,
    podReadySeconds: 30,
    env: { CVM_JOB_LOCK_MS: String(LOCK_MS), CVM_STALLED_CHECK_MS: '30000' },
  });
}, 60_000);

afterEach(() => {
  for (const p of processes) if (p.exitCode === null) p.kill('SIGKILL');
});

afterAll(async () => {
  await stack?.stop();
});

const startWorker = () => startCvmProcess('worker', stack.env, processes);

const imageOf = (d: any) =>
  d.spec.template.spec.containers.find((c: any) => c.name === 'api').image;

async function setUp(ns: string, extra: Record<string, unknown> = {}, deadlineSeconds = 600) {
  await stack.apply([
    namespace(ns),
    deployment(ns, 'api', 'example.com/old/api:1', {
      app: ns,
      progressDeadlineSeconds: deadlineSeconds,
    }),
    containerVersion(ns, 'api', {
      imageRepo: stack.repo,
      tag: ns,
      versionPattern: '^sha-[0-9a-f]{7}$',
      selector: { app: ns },
      container: 'api',
      pollIntervalSeconds: 0,
      ...extra,
    }),
  ]);
}

/**
 * Waits until the CV's rollout is in `phase` and its job waits (delayed) with no request held for
 * it: no step is running, and none is about to (a request that came during the last step makes
 * the job run again at once).
 */
async function waitingIn(ns: string, phase: string): Promise<void> {
  await waitFor(
    async () => {
      // Read straight from the API server (kubectl is too slow to catch a short phase under load).
      const response = await fetch(
        `${stack.emulator.url}/apis/cvm.dev/v1/namespaces/${ns}/containerversions/api`,
        { headers: { authorization: `Bearer ${EMULATOR_TOKEN}` } },
      );
      const cv = (await response.json()) as any;
      if (cv.status?.rollout?.phase !== phase) return false;
      const job = await stack.rolloutJob(ns, 'api');
      if ((await job?.getState()) !== 'delayed') return false;
      return !(await stack.heldRollout(ns, 'api'));
    },
    `the rollout of ${ns} to wait in ${phase}`,
    { timeoutMs: 30_000, intervalMs: 20 },
  ).catch(async (error: unknown) => {
    console.error(
      'CV status when the wait timed out:',
      JSON.stringify((await stack.containerVersion(ns, 'api')).status, null, 1),
    );
    throw error;
  });
}

async function kill(worker: CvmProcess, signal: NodeJS.Signals): Promise<number | null> {
  worker.proc.kill(signal);
  const [code] = (await once(worker.proc, 'exit')) as [number | null];
  return code;
}

describe('a worker that dies or stops while its rollout waits', () => {
  it.each([
    ['verifying (before anything is patched)', 'Verifying'],
    ['waiting for the pods', 'Waiting'],
  ])(
    'killed -9 while %s: another worker continues within seconds, one history entry',
    async (_what, phase) => {
      const ns = `kill-${phase.toLowerCase()}`;
      await setUp(
        ns,
        phase === 'Verifying'
          ? {
              verify: [{ name: 'smoke', image: 'example.com/checks/ok:1', command: ['/bin/true'] }],
            }
          : {},
      );
      const first = await startWorker();
      const digest = stack.push(['sha-9000001', ns]);
      await waitingIn(ns, phase);
      // Killed first, then the other worker starts: the job must be continued by it (started
      // before the kill, it could take seconds under load, while the first one finished the step).
      expect(await kill(first, 'SIGKILL')).toBeNull();
      const second = await startWorker();

      const cv = await stack.rolloutOf(ns, 'api', digest, WITHIN_SECONDS);
      expect(cv.status.lastRollout).toMatchObject({ result: 'Succeeded', version: 'sha-9000001' });
      expect(imageOf(await stack.deployment(ns, 'api'))).toBe(
        `${stack.repo}:sha-9000001@${digest}`,
      );
      expect(second.output()).toContain('resuming rollout');
      const history = await stack.history(ns, 'api');
      expect(history).toHaveLength(1);
      expect(history[0]).toMatchObject({ digest, result: 'Succeeded' });
      const jobs = JSON.parse(
        (await stack.kubectl(['get', 'jobs', '-n', ns, '-o', 'json'])).stdout,
      ).items;
      expect(jobs).toEqual([]);
    },
    90_000,
  );

  it('killed -9 while rolling back: another worker finishes the rollback, one history entry', async () => {
    const ns = 'kill-rollback';
    // Pods are ready after 30 emulated s; a never-ready image exceeds the 60 s deadline.
    await setUp(ns, {}, 60);
    const worker = await startWorker();
    const good = stack.push(['sha-9100001', ns]);
    expect((await stack.rolloutOf(ns, 'api', good, 30_000)).status.lastRollout.result).toBe(
      'Succeeded',
    );
    const goodImage = imageOf(await stack.deployment(ns, 'api'));
    const bad = stack.push(['sha-9bad002'], { content: 'kill-rollback-bad' });
    stack.emulator.setNeverReady([bad]);
    stack.push([ns], { content: 'kill-rollback-bad' });
    await waitingIn(ns, 'RollingBack');
    expect(await kill(worker, 'SIGKILL')).toBeNull();
    const second = await startWorker();

    const cv = await waitFor(
      async () => {
        const got = await stack.containerVersion(ns, 'api');
        return got.status?.lastRollout?.digest === bad &&
          got.status.lastRollout.result === 'RolledBack'
          ? got
          : undefined;
      },
      'the rollback to finish',
      { timeoutMs: WITHIN_SECONDS, intervalMs: 200 },
    );
    expect(cv.status.failedDigests).toContain(bad);
    expect(imageOf(await stack.deployment(ns, 'api'))).toBe(goodImage);
    expect(second.output()).toContain('resuming rollout');
    expect((await stack.history(ns, 'api')).map((h) => [h.digest, h.result])).toEqual([
      [bad, 'RolledBack'],
      [good, 'Succeeded'],
    ]);
  }, 120_000);

  it('SIGTERM while a rollout waits: the worker exits 0 at once and another continues the rollout', async () => {
    const ns = 'sigterm';
    await setUp(ns);
    const first = await startWorker();
    const digest = stack.push(['sha-9200001', ns]);
    await waitingIn(ns, 'Waiting');
    const stopping = Date.now();
    expect(await kill(first, 'SIGTERM')).toBe(0);
    // Nothing to drain: far below CVM_SHUTDOWN_TIMEOUT_MS (25 s), the old worker's wait for its job.
    expect(Date.now() - stopping).toBeLessThan(10_000);
    const second = await startWorker();
    const cv = await stack.rolloutOf(ns, 'api', digest, WITHIN_SECONDS);
    expect(cv.status.lastRollout.result).toBe('Succeeded');
    expect(second.output()).toContain('resuming rollout');
    expect(await stack.history(ns, 'api')).toHaveLength(1);
  }, 90_000);
});
