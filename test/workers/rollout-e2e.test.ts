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
  stack = await startCvmStack();
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

const cvSpec = (extra: Record<string, unknown> = {}) => ({
  imageRepo: stack.repo,
  tag: 'prod',
  versionPattern: '^sha-[0-9a-f]{7}$',
  selector: { app: 'api' },
  container: 'api',
  pollIntervalSeconds: 0,
  ...extra,
});

const imageOf = (d: any, container = 'api') =>
  d.spec.template.spec.containers.find((c: any) => c.name === container).image;

describe('push → receiver → workers → workload (docker-registry, emulator, Redis)', () => {
  it('a skopeo push rolls the Deployment out to repo:version@digest; kubectl rollout status succeeds; status and history say so', async () => {
    await stack.apply([
      namespace('shop'),
      deployment('shop', 'api', 'example.com/old/api:1'),
      containerVersion('shop', 'api', cvSpec()),
    ]);
    const digest = stack.push(['sha-a1b2c3d', 'prod']);

    const cv = await stack.rolloutOf('shop', 'api', digest);
    const image = `${stack.repo}:sha-a1b2c3d@${digest}`;
    expect(cv.status).toMatchObject({
      currentVersion: 'sha-a1b2c3d',
      currentDigest: digest,
      currentImage: image,
      lastRollout: { version: 'sha-a1b2c3d', digest, result: 'Succeeded' },
      observedGeneration: 1,
    });
    expect(cv.status.conditions).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: 'Ready', status: 'True', reason: 'RolloutSucceeded' }),
      ]),
    );

    const d = await stack.deployment('shop', 'api');
    expect(imageOf(d)).toBe(image);
    expect(imageOf(d, 'sidecar')).toBe('docker.io/library/busybox:1.36');
    expect(d.metadata.annotations).toMatchObject({
      'cvm.dev/digest': digest,
      'cvm.dev/previous-image': 'example.com/old/api:1',
    });
    const status = await stack.kubectl([
      'rollout',
      'status',
      'deployment/api',
      '-n',
      'shop',
      '--timeout=30s',
    ]);
    expect(status.stdout).toContain('successfully rolled out');

    const history = await stack.history('shop', 'api');
    expect(history).toEqual([
      expect.objectContaining({
        version: 'sha-a1b2c3d',
        digest,
        image,
        result: 'Succeeded',
        previousImage: 'example.com/old/api:1',
      }),
    ]);
  });

  it('a bad image exceeds its progress deadline, is rolled back and remembered; the same digest is not redeployed, a newer one is', async () => {
    await stack.apply([
      namespace('bad'),
      deployment('bad', 'api', 'example.com/old/api:1', { progressDeadlineSeconds: 20 }),
      containerVersion('bad', 'api', cvSpec()),
    ]);
    const good = stack.push(['sha-0000001', 'prod']);
    await stack.rolloutOf('bad', 'api', good);
    const goodImage = imageOf(await stack.deployment('bad', 'api'));

    const bad = stack.push(['sha-bad0002'], { content: 'bad' });
    stack.emulator.setNeverReady([bad]);
    stack.push(['prod'], { content: 'bad' }); // same content: the same digest, now tagged prod
    // lastRollout says Failed as soon as the deadline passed, then RolledBack once the rollback finished.
    const failed = await waitFor(
      async () => {
        const cv = await stack.containerVersion('bad', 'api');
        return cv.status?.lastRollout?.digest === bad &&
          cv.status.lastRollout.result === 'RolledBack'
          ? cv
          : undefined;
      },
      'the rollback of the bad digest',
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    expect(failed.status.lastRollout, JSON.stringify(failed.status.lastRollout)).toMatchObject({
      digest: bad,
      result: 'RolledBack',
    });
    expect(failed.status.failedDigests).toContain(bad);
    expect(failed.status.currentDigest).toBe(good);
    expect(failed.status.conditions).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: 'Degraded', status: 'True', reason: 'RolledBack' }),
      ]),
    );
    await waitFor(
      async () => imageOf(await stack.deployment('bad', 'api')) === goodImage,
      'the rollback',
    );
    const events = JSON.parse(
      (await stack.kubectl(['get', 'events', '-n', 'bad', '-o', 'json'])).stdout,
    ).items;
    expect(events.map((e: any) => e.reason)).toEqual(
      expect.arrayContaining(['RolloutFailed', 'RolledBack']),
    );

    // The bad digest pushed again: acknowledged, not redeployed.
    const completedBefore = (await stack.rolloutJobCounts()).completed ?? 0;
    stack.push(['prod'], { content: 'bad' });
    await waitFor(
      async () => ((await stack.rolloutJobCounts()).completed ?? 0) > completedBefore,
      'the job for the repeated bad push',
    );
    expect(imageOf(await stack.deployment('bad', 'api'))).toBe(goodImage);

    const newer = stack.push(['sha-0000003', 'prod']);
    const fixed = await stack.rolloutOf('bad', 'api', newer);
    expect(fixed.status).toMatchObject({ currentVersion: 'sha-0000003', currentDigest: newer });
    await waitFor(
      async () => (await stack.pendingRollouts('bad', 'api')) === 0,
      'no rollout of bad/api left pending',
    );
    expect((await stack.history('bad', 'api')).map((h) => [h.version, h.result])).toEqual([
      ['sha-0000003', 'Succeeded'],
      ['sha-bad0002', 'RolledBack'],
      ['sha-0000001', 'Succeeded'],
    ]);
  }, 120_000);

  it('the same push delivered three times and two pushes arriving newest-first give one rollout each and no downgrade', async () => {
    await stack.apply([
      namespace('dup'),
      deployment('dup', 'api', 'example.com/old/api:1', { app: 'dup' }),
      containerVersion('dup', 'api', cvSpec({ selector: { app: 'dup' }, tag: 'dup' })),
    ]);
    const first = stack.push(['sha-d000001', 'dup']);
    await stack.rolloutOf('dup', 'api', first);
    for (let i = 0; i < 3; i += 1)
      expect(
        await stack.postGeneric({ image: `${stack.repo}:dup`, digest: first, id: 'ci-run-1' }),
      ).toBe(202);

    const older = stack.push(['sha-d000002']);
    const newest = stack.push(['sha-d000003', 'dup']);
    // Events arrive newest first, then the older one: the older names a digest the tag no longer has.
    expect(
      await stack.postGeneric({ image: `${stack.repo}:dup`, digest: newest, id: 'ci-run-3' }),
    ).toBe(202);
    expect(
      await stack.postGeneric({ image: `${stack.repo}:dup`, digest: older, id: 'ci-run-2' }),
    ).toBe(202);
    await stack.rolloutOf('dup', 'api', newest);
    await waitFor(
      async () => (await stack.pendingRollouts('dup', 'api')) === 0,
      'the rollouts of dup/api to finish',
    );

    const history = await stack.history('dup', 'api');
    expect(history.map((h) => h.version)).toEqual(['sha-d000003', 'sha-d000001']);
    const replicaSets = JSON.parse(
      (await stack.kubectl(['get', 'replicasets', '-n', 'dup', '-o', 'json'])).stdout,
    ).items;
    const images = replicaSets.map((rs: any) => rs.spec.template.spec.containers[0].image);
    expect(images.some((i: string) => i.includes(older))).toBe(false);
    expect(imageOf(await stack.deployment('dup', 'api'))).toContain(newest);
  }, 90_000);

  it('the next rollout reads no manifest of the image it replaces and the new one once: descriptions are kept by digest', async () => {
    await stack.apply([
      namespace('cached'),
      deployment('cached', 'api', 'example.com/old/api:1'),
      containerVersion('cached', 'api', cvSpec({ tag: 'cached' })),
    ]);
    const first = stack.push(['sha-c0ffee1', 'cached']);
    await stack.rolloutOf('cached', 'api', first);
    // docker-registry logs a request after answering it: let the log settle before counting.
    const manifestGets = async (digest: string) => {
      let seen = -1;
      let now = 0;
      while (seen !== now) {
        seen = now;
        await new Promise((r) => setTimeout(r, 300));
        now = stack.registry.requests(new RegExp(`^GET /v2/team/api/manifests/${digest}$`)).length;
      }
      return now;
    };
    const firstReads = await manifestGets(first);
    expect(firstReads).toBe(1);

    const second = stack.push(['sha-c0ffee2', 'cached']);
    const cv = await stack.rolloutOf('cached', 'api', second);
    expect(cv.status.lastRollout).toMatchObject({ result: 'Succeeded', version: 'sha-c0ffee2' });
    // The regression check compared it with the running image, whose description was kept.
    expect(await manifestGets(first)).toBe(firstReads);
    expect(await manifestGets(second)).toBe(1);
  });

  it('two CVs following the same repo:tag in two namespaces update only their own namespace', async () => {
    await stack.apply([
      namespace('team-a'),
      namespace('team-b'),
      namespace('team-c'),
      deployment('team-a', 'api', 'example.com/old/api:1', { app: 'shared' }),
      deployment('team-b', 'api', 'example.com/old/api:1', { app: 'shared' }),
      deployment('team-c', 'api', 'example.com/old/api:1', { app: 'shared' }),
      containerVersion('team-a', 'api', cvSpec({ selector: { app: 'shared' }, tag: 'shared' })),
      containerVersion('team-b', 'api', cvSpec({ selector: { app: 'shared' }, tag: 'shared' })),
    ]);
    const digest = stack.push(['sha-5000001', 'shared']);
    await stack.rolloutOf('team-a', 'api', digest);
    await stack.rolloutOf('team-b', 'api', digest);
    expect(imageOf(await stack.deployment('team-a', 'api'))).toContain(digest);
    expect(imageOf(await stack.deployment('team-b', 'api'))).toContain(digest);
    expect(imageOf(await stack.deployment('team-c', 'api'))).toBe('example.com/old/api:1');
  }, 60_000);
});

describe('other workload kinds and verify checks', () => {
  const podTemplate = (app: string) => ({
    metadata: { labels: { app, part: 'x' } },
    spec: { containers: [{ name: 'api', image: 'example.com/old/api:1' }] },
  });

  it('a StatefulSet, a DaemonSet and a CronJob are patched and watched; a verify Job runs first and is cleaned up', async () => {
    const labels = { app: 'kinds' };
    await stack.apply([
      namespace('kinds'),
      {
        apiVersion: 'apps/v1',
        kind: 'StatefulSet',
        metadata: { name: 'db', namespace: 'kinds', labels },
        spec: {
          replicas: 2,
          serviceName: 'db',
          selector: { matchLabels: { app: 'kinds', part: 'x' } },
          template: podTemplate('kinds'),
        },
      },
      {
        apiVersion: 'apps/v1',
        kind: 'DaemonSet',
        metadata: { name: 'agent', namespace: 'kinds', labels },
        spec: {
          selector: { matchLabels: { app: 'kinds', part: 'x' } },
          template: podTemplate('kinds'),
        },
      },
      {
        apiVersion: 'batch/v1',
        kind: 'CronJob',
        metadata: { name: 'report', namespace: 'kinds', labels },
        spec: {
          schedule: '0 3 * * *',
          jobTemplate: {
            spec: {
              template: {
                spec: {
                  restartPolicy: 'Never',
                  containers: [{ name: 'api', image: 'example.com/old/api:1' }],
                },
              },
            },
          },
        },
      },
      containerVersion(
        'kinds',
        'api',
        cvSpec({
          selector: labels,
          tag: 'kinds',
          verify: [
            { name: 'smoke', image: 'example.com/checks/ok-check:1', command: ['/bin/true'] },
          ],
        }),
      ),
    ]);
    const digest = stack.push(['sha-0c0ffee', 'kinds']);
    const cv = await stack.rolloutOf('kinds', 'api', digest, 60_000);
    expect(cv.status.lastRollout).toMatchObject({ result: 'Succeeded', version: 'sha-0c0ffee' });
    const get = async (kind: string, name: string) =>
      JSON.parse((await stack.kubectl(['get', kind, name, '-n', 'kinds', '-o', 'json'])).stdout);
    expect(JSON.stringify((await get('statefulset', 'db')).spec.template)).toContain(digest);
    expect(JSON.stringify((await get('daemonset', 'agent')).spec.template)).toContain(digest);
    expect(
      (await get('cronjob', 'report')).spec.jobTemplate.spec.template.spec.containers[0].image,
    ).toBe(`${stack.repo}:sha-0c0ffee@${digest}`);
    expect(
      (await stack.kubectl(['rollout', 'status', 'statefulset/db', '-n', 'kinds', '--timeout=20s']))
        .code,
    ).toBe(0);
    expect(
      (
        await stack.kubectl([
          'rollout',
          'status',
          'daemonset/agent',
          '-n',
          'kinds',
          '--timeout=20s',
        ])
      ).code,
    ).toBe(0);
    await waitFor(
      async () =>
        JSON.parse((await stack.kubectl(['get', 'jobs', '-n', 'kinds', '-o', 'json'])).stdout).items
          .length === 0,
      'the verify Job to be deleted',
    );
  }, 90_000);

  it('a failing verify check stops the rollout before anything is patched', async () => {
    stack.emulator.setNeverReady(['fail-check']);
    await stack.apply([
      namespace('verify'),
      deployment('verify', 'api', 'example.com/old/api:1', { app: 'verify' }),
      containerVersion(
        'verify',
        'api',
        cvSpec({
          selector: { app: 'verify' },
          tag: 'verify',
          verify: [
            {
              name: 'smoke',
              image: 'example.com/checks/fail-check:1',
              command: ['/bin/false'],
              timeoutSeconds: 60,
            },
          ],
        }),
      ),
    ]);
    const digest = stack.push(['sha-0bad0ff', 'verify']);
    const cv = await stack.rolloutOf('verify', 'api', digest, 60_000);
    expect(cv.status.lastRollout.result).toBe('Failed');
    expect(cv.status.conditions.find((c: any) => c.type === 'Degraded')).toMatchObject({
      status: 'True',
      reason: 'VerifyFailed',
      message: expect.stringContaining('verify check smoke failed'),
    });
    expect(imageOf(await stack.deployment('verify', 'api'))).toBe('example.com/old/api:1');
  }, 90_000);
});

describe('a strategy whose workloads do not fit', () => {
  it('a Canary CV without stable and canary workloads is refused with the field, and its workloads are left alone', async () => {
    await stack.apply([
      namespace('canary'),
      deployment('canary', 'api', 'example.com/old/api:1', { app: 'canary' }),
      containerVersion(
        'canary',
        'api',
        cvSpec({ selector: { app: 'canary' }, tag: 'canary', strategy: { type: 'Canary' } }),
      ),
    ]);
    stack.push(['sha-ca00001', 'canary']);
    const cv = await waitFor(async () => {
      const got = await stack.containerVersion('canary', 'api');
      return got.status?.conditions ? got : undefined;
    }, 'the CV to be refused');
    expect(cv.status.conditions.find((c: any) => c.type === 'Ready')).toMatchObject({
      status: 'False',
      reason: 'InvalidSpec',
      message:
        'strategy.canary.trackLabel: Canary needs one selected workload labelled cvm.dev/track=stable and one cvm.dev/track=canary; found 0 and 0',
    });
    expect(imageOf(await stack.deployment('canary', 'api'))).toBe('example.com/old/api:1');
  }, 60_000);
});
