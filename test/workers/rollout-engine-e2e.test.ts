import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  containerVersion,
  deployment,
  namespace,
  startCvmStack,
  type CvmStack,
} from '../support/cvm-stack.js';
import { waitFor } from '../support/wait-for.js';

let stack: CvmStack;

beforeAll(async () => {
  stack = await startCvmStack({
    reconciler: true,
    // Requests that hang are abandoned after 1 s; drift is looked for every second.
    env: { CVM_KUBE_REQUEST_TIMEOUT_MS: '1000', CVM_DRIFT_CHECK_SECONDS: '1' },
  });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

const cvSpec = (app: string, extra: Record<string, unknown> = {}) => ({
  imageRepo: stack.repo,
  tag: app,
  versionPattern: '^sha-[0-9a-f]{7}$',
  selector: { app },
  container: 'api',
  pollIntervalSeconds: 0,
  ...extra,
});

const imageOf = (d: any) =>
  d.spec.template.spec.containers.find((c: any) => c.name === 'api').image;

async function setUp(ns: string, extra: Record<string, unknown> = {}, deadlineSeconds = 600) {
  await stack.apply([
    namespace(ns),
    deployment(ns, 'api', 'example.com/old/api:1', {
      app: ns,
      progressDeadlineSeconds: deadlineSeconds,
    }),
    containerVersion(ns, 'api', cvSpec(ns, extra)),
  ]);
}

async function eventsOf(ns: string): Promise<any[]> {
  return JSON.parse((await stack.kubectl(['get', 'events', '-n', ns, '-o', 'json'])).stdout).items;
}

describe('the rollout as a state machine in status.rollout', () => {
  it('while a rollout waits, the CV says where it stands; once it ends, status.rollout is gone', async () => {
    await setUp('standing', {}, 20);
    const good = stack.push(['sha-5000001', 'standing']);
    await stack.rolloutOf('standing', 'api', good);
    const bad = stack.push(['sha-5bad002'], { content: 'standing-bad' });
    stack.emulator.setNeverReady([bad]);
    stack.push(['standing'], { content: 'standing-bad' });

    const waiting = await waitFor(
      async () => {
        const cv = await stack.containerVersion('standing', 'api');
        return cv.status?.rollout?.phase === 'Waiting' ? cv : undefined;
      },
      'the rollout to wait for its pods',
      { timeoutMs: 20_000, intervalMs: 100 },
    );
    expect(waiting.status.rollout).toMatchObject({
      strategy: 'Rolling',
      step: 1,
      steps: 1,
      digest: bad,
      version: 'sha-5bad002',
      image: `${stack.repo}:sha-5bad002@${bad}`,
      // The push, or the leader's check of every CV against its registry (ADR 8) if it came first.
      trigger: expect.stringMatching(/^(push|poll)$/),
      workloads: [
        {
          kind: 'Deployment',
          name: 'api',
          previousImage: `${stack.repo}:sha-5000001@${good}`,
          generation: expect.any(Number),
        },
      ],
      progressDeadlineAt: expect.any(String),
    });
    const done = await waitFor(
      async () => {
        const cv = await stack.containerVersion('standing', 'api');
        return cv.status?.lastRollout?.result === 'RolledBack' ? cv : undefined;
      },
      'the rollback',
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    expect(done.status.rollout).toBeUndefined();
    expect(done.status.currentDigest).toBe(good);
  }, 60_000);

  it('without versionPattern the workload gets repo:<followed tag>@digest, a tag that exists, whatever the version is called', async () => {
    await setUp('nopattern', { versionPattern: undefined });
    const digest = stack.push(['nopattern']);
    const cv = await stack.rolloutOf('nopattern', 'api', digest);
    expect(cv.status.lastRollout.result).toBe('Succeeded');
    expect(cv.status.currentVersion).toBe(digest.slice('sha256:'.length, 'sha256:'.length + 12));
    expect(cv.status.currentImage).toBe(`${stack.repo}:nopattern@${digest}`);
    expect(imageOf(await stack.deployment('nopattern', 'api'))).toBe(
      `${stack.repo}:nopattern@${digest}`,
    );
  });

  it('with the tag still on a failed digest, a workload changed by hand is reverted to currentDigest and the conditions say so', async () => {
    await setUp('heal', {}, 20);
    const good = stack.push(['sha-4000001', 'heal']);
    await stack.rolloutOf('heal', 'api', good);
    const goodImage = `${stack.repo}:sha-4000001@${good}`;
    const bad = stack.push(['sha-4bad002'], { content: 'heal-bad' });
    stack.emulator.setNeverReady([bad]);
    stack.push(['heal'], { content: 'heal-bad' });
    await waitFor(
      async () =>
        (await stack.containerVersion('heal', 'api')).status?.lastRollout?.result === 'RolledBack',
      'the rollback of the bad digest',
      { timeoutMs: 40_000, intervalMs: 200 },
    );
    await waitFor(
      async () => imageOf(await stack.deployment('heal', 'api')) === goodImage,
      'the rollback',
    );

    const byHand = await stack.kubectl([
      'set',
      'image',
      'deployment/api',
      'api=example.com/hand/edit:7',
      '-n',
      'heal',
    ]);
    expect(byHand.code).toBe(0);
    await waitFor(
      async () => imageOf(await stack.deployment('heal', 'api')) === goodImage,
      'the hand edit to be reverted',
      { timeoutMs: 20_000, intervalMs: 200 },
    );
    const cv = await waitFor(async () => {
      const got = await stack.containerVersion('heal', 'api');
      return got.status?.rollout === undefined && got.status?.lastRollout?.result === 'Succeeded'
        ? got
        : undefined;
    }, 'the revert to be recorded');
    expect(cv.status.currentDigest).toBe(good);
    expect(cv.status.failedDigests).toContain(bad);
    expect(cv.status.conditions.find((c: any) => c.type === 'Ready')).toMatchObject({
      status: 'True',
      reason: 'DriftCorrected',
    });
    expect(cv.status.lastRollout.message).toContain('sha-4000001');
    const history = await stack.history('heal', 'api');
    expect(history[0]).toMatchObject({
      version: 'sha-4000001',
      digest: good,
      result: 'Succeeded',
      trigger: 'drift',
    });
    expect((await eventsOf('heal')).map((e) => e.reason)).toContain('DriftCorrected');
  }, 90_000);

  it('a rollout writes no status of its own for the patched and recording steps: they go with the wait and the end', async () => {
    await setUp('writes');
    const from = stack.emulator.requests.length;
    const digest = stack.push(['sha-7000001', 'writes']);
    const cv = await stack.rolloutOf('writes', 'api', digest);
    expect(cv.status.lastRollout.result).toBe('Succeeded');
    const writes = stack.emulator.requests
      .slice(from)
      .filter(
        (r) =>
          r.method === 'PATCH' &&
          r.path === '/apis/cvm.dev/v1/namespaces/writes/containerversions/api/status',
      )
      .map((r) => JSON.parse(r.body).status)
      // From the rollout's start (a sync of the new CV may have written before the push).
      .filter((_w: any, i: number, all: any[]) =>
        all.slice(0, i + 1).some((w) => w.rollout?.phase === 'Patching'),
      );
    const phases = writes.map((w: any) => w.rollout?.phase ?? w.rollout);
    // Patching before the patch; then Waiting, written once the run waits, with the workload's
    // own progress (not a write for the phase and one more for its first message); later runs
    // write Waiting again only when that progress changed; then the end, which removes the
    // rollout (the Recording phase is not written on its own: recording again after a crash is
    // idempotent by the rollout's id).
    expect(phases[0]).toBe('Patching');
    expect(phases.at(-1)).toBeNull();
    expect(phases.slice(1, -1).every((p: string) => p === 'Waiting')).toBe(true);
    expect(phases.length).toBeGreaterThanOrEqual(3);
    const waiting = writes.filter((w: any) => w.rollout?.phase === 'Waiting');
    expect(waiting.every((w: any) => /^Waiting for deployment/.test(w.rollout.message))).toBe(true);
    expect(new Set(waiting.map((w: any) => w.rollout.message)).size).toBe(waiting.length);
    expect(writes.at(-1).lastRollout).toMatchObject({ digest, result: 'Succeeded' });
    expect(await stack.history('writes', 'api')).toHaveLength(1);
  });

  it('a 500 on the history write is retried and the entry is written exactly once', async () => {
    await setUp('hist');
    stack.emulator.faults.inject({
      method: 'POST',
      pathPattern: '/api/v1/namespaces/hist/configmaps',
      status: 500,
    });
    const digest = stack.push(['sha-6000001', 'hist']);
    const cv = await stack.rolloutOf('hist', 'api', digest);
    expect(cv.status.lastRollout.result).toBe('Succeeded');
    expect(stack.emulator.faults.remaining()).toBe(0);
    const history = await waitFor(async () => {
      const h = await stack.history('hist', 'api');
      return h.length > 0 ? h : undefined;
    }, 'the history entry');
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({ digest, result: 'Succeeded' });
  }, 60_000);
});

describe('a Kubernetes request that hangs', () => {
  // Each call a rollout makes, hung once: the rollout still ends, and the CV said a step failed
  // (an Event is a courtesy: a hung one is given up and logged, the step goes on).
  const calls: [string, { method: string; path: (ns: string) => string; stepFails?: false }][] = [
    [
      'read the CV',
      { method: 'GET', path: (ns) => `/apis/cvm.dev/v1/namespaces/${ns}/containerversions/api` },
    ],
    [
      'write the CV status',
      {
        method: 'PATCH',
        path: (ns) => `/apis/cvm.dev/v1/namespaces/${ns}/containerversions/api/status`,
      },
    ],
    [
      'patch the Deployment',
      { method: 'PATCH', path: (ns) => `/apis/apps/v1/namespaces/${ns}/deployments/api` },
    ],
    [
      // The first read of it is the resolve's: the watch names the selected workloads, each is
      // read fresh (a LIST only when the watch knows none).
      'read the Deployment',
      { method: 'GET', path: (ns) => `/apis/apps/v1/namespaces/${ns}/deployments/api` },
    ],
    [
      'record an Event',
      { method: 'POST', path: (ns) => `/api/v1/namespaces/${ns}/events`, stepFails: false },
    ],
    [
      'write the history',
      { method: 'GET', path: (ns) => `/api/v1/namespaces/${ns}/configmaps/api-history` },
    ],
  ];
  it.each(calls)(
    '%s: the rollout ends, the CV says what happened',
    async (_what, call) => {
      const ns = `hang-${calls.findIndex(([w]) => w === _what)}`;
      await setUp(ns);
      stack.emulator.faults.inject({ method: call.method, pathPattern: call.path(ns), hang: true });
      const digest = stack.push(['sha-7000001', ns]);
      await waitFor(() => stack.emulator.faults.remaining() === 0, 'the hung request', {
        timeoutMs: 20_000,
      }).finally(() => stack.emulator.faults.clear());
      const cv = await stack.rolloutOf(ns, 'api', digest, 40_000);
      expect(cv.status.lastRollout.result).toBe('Succeeded');
      expect(cv.status.rollout).toBeUndefined();
      expect(imageOf(await stack.deployment(ns, 'api'))).toContain(digest);
      const failed = (await eventsOf(ns)).filter((e) => e.reason === 'StepFailed');
      if (call.stepFails === false) expect(failed).toEqual([]);
      else {
        expect(failed.length, 'a StepFailed Event').toBeGreaterThan(0);
        expect(failed[0].message).toContain('a step failed and is retried');
      }
      expect(await stack.history(ns, 'api')).toHaveLength(1);
    },
    60_000,
  );

  it('a push for a CV whose step keeps failing is not blocked behind it: the newest digest runs at once', async () => {
    await setUp('hang-next');
    stack.emulator.faults.inject({
      method: 'PATCH',
      pathPattern: '/apis/apps/v1/namespaces/hang-next/deployments/api',
      hang: true,
      times: 2,
    });
    stack.push(['sha-8000001', 'hang-next']);
    await waitFor(() => stack.emulator.faults.remaining() === 1, 'the first hung patch', {
      timeoutMs: 20_000,
    });
    const newest = stack.push(['sha-8000002', 'hang-next']);
    const cv = await stack.rolloutOf('hang-next', 'api', newest, 40_000);
    expect(cv.status.lastRollout.result).toBe('Succeeded');
    expect(imageOf(await stack.deployment('hang-next', 'api'))).toContain(newest);
  }, 60_000);
});
