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
    notifications: false,
    env: { CVM_POLL_TICK_MS: '200', CVM_DRIFT_CHECK_SECONDS: '1', CVM_LEASE_DURATION_SECONDS: '5' },
  });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

const imageOf = (d: any) =>
  d.spec.template.spec.containers.find((c: any) => c.name === 'api').image;

describe('reconciler (leader) with workers, no webhooks', () => {
  it('a new CV is synced at once, and a CV polling every 2 s picks up a newly pushed digest', async () => {
    const first = stack.push(['sha-f000001', 'polled']);
    await stack.apply([
      namespace('poll'),
      deployment('poll', 'api', 'example.com/old/api:1'),
      containerVersion('poll', 'api', {
        imageRepo: stack.repo,
        tag: 'polled',
        versionPattern: '^sha-',
        selector: { app: 'api' },
        container: 'api',
        pollIntervalSeconds: 2,
      }),
    ]);
    const synced = await stack.rolloutOf('poll', 'api', first);
    expect(synced.status).toMatchObject({ currentVersion: 'sha-f000001', observedGeneration: 1 });

    const second = stack.push(['sha-f000002', 'polled']);
    const polled = await stack.rolloutOf('poll', 'api', second, 20_000);
    expect(polled.status.currentVersion).toBe('sha-f000002');
    expect(imageOf(await stack.deployment('poll', 'api'))).toBe(
      `${stack.repo}:sha-f000002@${second}`,
    );
  }, 60_000);

  it('an invalid spec is reported as Ready=False, InvalidSpec, naming the field', async () => {
    await stack.apply([namespace('invalid')]);
    // The API server's pattern does not catch this one; cvm's Docker grammar does.
    await stack.apply([
      containerVersion('invalid', 'api', {
        imageRepo: 'my_registry.local/app',
        tag: 'prod',
        selector: { app: 'api' },
        container: 'api',
      }),
    ]);
    const cv = await waitFor(async () => {
      const got = await stack.containerVersion('invalid', 'api');
      return got.status?.conditions ? got : undefined;
    }, 'the InvalidSpec condition');
    expect(cv.status.conditions.find((c: any) => c.type === 'Ready')).toMatchObject({
      status: 'False',
      reason: 'InvalidSpec',
      message: expect.stringContaining('spec.imageRepo'),
    });
    expect(cv.status.observedGeneration).toBe(1);
  });

  it('kubectl set image on a managed Deployment is reverted to the CV version, with a DriftCorrected Event', async () => {
    const digest = stack.push(['sha-d1f7000', 'drift']);
    await stack.apply([
      namespace('drift'),
      deployment('drift', 'api', 'example.com/old/api:1'),
      containerVersion('drift', 'api', {
        imageRepo: stack.repo,
        tag: 'drift',
        versionPattern: '^sha-',
        selector: { app: 'api' },
        container: 'api',
        pollIntervalSeconds: 0,
      }),
    ]);
    await stack.rolloutOf('drift', 'api', digest);
    const managed = `${stack.repo}:sha-d1f7000@${digest}`;
    expect(
      (
        await stack.kubectl([
          'set',
          'image',
          'deployment/api',
          'api=example.com/by-hand:2',
          '-n',
          'drift',
        ])
      ).code,
    ).toBe(0);
    await waitFor(
      async () => imageOf(await stack.deployment('drift', 'api')) === managed,
      'the drift to be reverted',
      { timeoutMs: 20_000 },
    );
    const events = JSON.parse(
      (await stack.kubectl(['get', 'events', '-n', 'drift', '-o', 'json'])).stdout,
    ).items;
    expect(events.find((e: any) => e.reason === 'DriftCorrected')).toMatchObject({
      involvedObject: { kind: 'Deployment', name: 'api' },
    });
  }, 60_000);
});

describe('a CV created before its tag exists', () => {
  it('a push runs the rollout at once instead of after the waiting sync job’s backoff', async () => {
    await stack.apply([
      namespace('early'),
      deployment('early', 'api', 'example.com/old/api:1'),
      containerVersion('early', 'api', {
        imageRepo: stack.repo,
        tag: 'early',
        versionPattern: '^sha-',
        selector: { app: 'api' },
        container: 'api',
        pollIntervalSeconds: 0,
      }),
    ]);
    // The sync finds no tag and retries with exponential backoff (2 s, 4 s, 8 s … with jitter).
    await waitFor(
      async () => ((await stack.rolloutJob('early', 'api'))?.attemptsMade ?? 0) >= 3,
      'three failed syncs',
      { timeoutMs: 20_000 },
    );
    const digest = stack.push(['sha-ea00001', 'early']);
    const pushedAt = Date.now();
    expect(await stack.postGeneric({ image: `${stack.repo}:early`, digest })).toBe(202);
    await stack.rolloutOf('early', 'api', digest, 20_000);
    // The fourth try would come 8 s or more after the third failure: the push promoted it.
    expect(Date.now() - pushedAt).toBeLessThan(3_500);
  }, 60_000);
});
