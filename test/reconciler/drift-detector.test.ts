import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ContainerVersionInformer } from '../../src/kube/container-version-informer.js';
import { KubeContainerVersionStore } from '../../src/kube/container-version-store.js';
import { KubeEventRecorder } from '../../src/kube/event-recorder.js';
import { KubeWorkloadClient } from '../../src/kube/workload-client.js';
import { KubeWorkloadWatcher } from '../../src/kube/workload-watcher.js';
import {
  closeConnection,
  createProducerConnection,
  waitForReady,
  type Redis,
} from '../../src/queue/connections.js';
import { RolloutQueue, rolloutDeduplicationId } from '../../src/queue/rollout-queue.js';
import { DriftDetector } from '../../src/reconciler/drift-detector.js';
import { startKubeTestEnv, type KubeTestEnv } from '../kube/kube-test-env.js';
import { MACHINE_REDIS_URL } from '../support/receiver-parts.js';
import { waitFor } from '../support/wait-for.js';

const logger = pino({ level: 'silent' });
const prefix = `test-drift-${randomUUID().slice(0, 8)}`;
const DIGEST = `sha256:${'a'.repeat(64)}`;
const OTHER = `sha256:${'b'.repeat(64)}`;
const CV_RESOURCE = 'containerversions.cvm.dev';

let env: KubeTestEnv;
let redis: Redis;
let rollouts: RolloutQueue;
let cvs: ContainerVersionInformer;
let watcher: KubeWorkloadWatcher;
let detector: DriftDetector | undefined;

beforeAll(async () => {
  env = await startKubeTestEnv();
  redis = createProducerConnection({
    url: MACHINE_REDIS_URL,
    connectTimeoutMs: 500,
    logger,
    name: 'test-drift',
  });
  await waitForReady(redis, 5_000);
  rollouts = new RolloutQueue({ connection: redis, prefix });
  cvs = new ContainerVersionInformer({ kubeConfig: env.kubeConfig, logger });
  watcher = new KubeWorkloadWatcher({ kubeConfig: env.kubeConfig, logger });
  await cvs.start();
  await watcher.start();
  await Promise.all([cvs.synced(), watcher.synced()]);
}, 60_000);

afterEach(async () => {
  await detector?.stop();
  detector = undefined;
});

afterAll(async () => {
  await watcher?.stop();
  await cvs?.stop();
  await rollouts.queue.obliterate({ force: true }).catch(() => undefined);
  await rollouts.close();
  await closeConnection(redis);
  await env?.stop();
});

/** A namespace with a Deployment running `example.com/team/api@<digest>` and a CV whose current digest is DIGEST. */
function managed(ns: string, running = DIGEST, status: Record<string, unknown> = {}) {
  const { store } = env.emulator;
  store.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  const labels = { app: 'api' };
  store.create('deployments.apps', {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'api', namespace: ns, labels },
    spec: {
      replicas: 1,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: { containers: [{ name: 'api', image: `example.com/team/api@${running}` }] },
      },
    },
  });
  const cv = store.create(CV_RESOURCE, {
    apiVersion: 'cvm.dev/v1',
    kind: 'ContainerVersion',
    metadata: { name: 'api', namespace: ns },
    spec: { imageRepo: 'example.com/team/api', tag: 'prod', selector: labels, container: 'api' },
  });
  store.updateStatus(CV_RESOURCE, {
    ...cv,
    status: {
      observedGeneration: 1,
      currentDigest: DIGEST,
      currentImage: `example.com/team/api:v1@${DIGEST}`,
      ...status,
    },
  });
}

/** Sets the Deployment's container image, as `kubectl set image` does. */
function setImage(ns: string, digest: string): void {
  const { store } = env.emulator;
  const d = store.get('deployments.apps', ns, 'api')!;
  d.spec.template.spec.containers[0].image = `example.com/team/api@${digest}`;
  store.update('deployments.apps', d);
}

function detect(options: { intervalMs?: number } = {}): DriftDetector {
  detector = new DriftDetector({
    cvs,
    cache: watcher,
    store: new KubeContainerVersionStore({ kubeConfig: env.kubeConfig }),
    workloads: new KubeWorkloadClient({ kubeConfig: env.kubeConfig }),
    events: new KubeEventRecorder({ kubeConfig: env.kubeConfig, logger }),
    rollouts,
    logger,
    intervalMs: options.intervalMs ?? 3_600_000,
    settleMs: 100,
  });
  return detector;
}

const driftEvents = (ns: string) =>
  env.emulator.store
    .list('events', { namespace: ns })
    .filter((e: any) => e.reason === 'DriftCorrected');

const rolloutOf = async (ns: string) => {
  const id = await rollouts.queue.getDeduplicationJobId(rolloutDeduplicationId(ns, 'api'));
  return id ? await rollouts.queue.getJob(id) : undefined;
};

/** The API requests (watches excluded) made since `from`, as `METHOD path`. */
const requestsSince = (from: number) =>
  env.emulator.requests
    .slice(from)
    .filter((r) => !r.query.includes('watch='))
    .map((r) => `${r.method} ${r.path}`);

const cached = async (ns: string, digest: string) =>
  waitFor(
    () =>
      watcher
        .workloads(ns)
        .some((w) => w.containers[0]?.image === `example.com/team/api@${digest}`) &&
      cvs.get(ns, 'api')?.status?.currentDigest !== undefined,
    `the caches to show ${ns}`,
  );

describe('DriftDetector (emulator over HTTP, Redis)', () => {
  it('a workload changed by hand is found from its watch event, with no LIST: GETs of the CV and the workload confirm it, then the Event and the rollout', async () => {
    managed('drift-watch');
    await cached('drift-watch', DIGEST);
    await detect().start();
    const from = env.emulator.requests.length;
    setImage('drift-watch', OTHER);
    await waitFor(() => driftEvents('drift-watch').length > 0, 'the DriftCorrected Event');
    await waitFor(async () => (await rolloutOf('drift-watch')) !== undefined, 'the rollout');
    expect((await rolloutOf('drift-watch'))?.data.trigger).toMatchObject({
      kind: 'drift',
      digest: DIGEST,
    });
    expect(requestsSince(from).sort()).toEqual(
      [
        'GET /apis/cvm.dev/v1/namespaces/drift-watch/containerversions/api',
        'GET /apis/apps/v1/namespaces/drift-watch/deployments/api',
        'POST /api/v1/namespaces/drift-watch/events',
      ].sort(),
    );
  });

  it('idle, with every workload at its digest, passes over every CV cost no API request', async () => {
    for (let i = 0; i < 50; i += 1) managed(`drift-idle-${i}`);
    await cached('drift-idle-49', DIGEST);
    const from = env.emulator.requests.length;
    await detect({ intervalMs: 100 }).start();
    await new Promise((r) => setTimeout(r, 1_000)); // about ten full passes
    // (drift-watch of the first test is still drifted: no worker rolls it back here.)
    expect(requestsSince(from).filter((r) => r.includes('drift-idle'))).toEqual([]);
    expect(driftEvents('drift-idle-0')).toEqual([]);
  });

  it('a rollout cvm is making (its status says so) is no drift, even while the cache has the status from before', async () => {
    managed('drift-rollout');
    await cached('drift-rollout', DIGEST);
    await detect().start();
    // The worker writes the rollout into the status, then patches: the detector hears the patch.
    const { store } = env.emulator;
    const cv = store.get(CV_RESOURCE, 'drift-rollout', 'api')!;
    store.updateStatus(CV_RESOURCE, {
      ...cv,
      status: {
        ...(cv.status as object),
        lastRollout: {
          version: 'v2',
          digest: OTHER,
          startedAt: new Date().toISOString(),
          result: 'Progressing',
          message: '',
        },
      },
    });
    setImage('drift-rollout', OTHER);
    await new Promise((r) => setTimeout(r, 500));
    // It ends: the status has the new digest.
    const during = store.get(CV_RESOURCE, 'drift-rollout', 'api')!;
    store.updateStatus(CV_RESOURCE, {
      ...during,
      status: {
        ...(during.status as object),
        currentDigest: OTHER,
        lastRollout: { ...during.status.lastRollout, result: 'Succeeded' },
      },
    });
    await new Promise((r) => setTimeout(r, 500));
    expect(driftEvents('drift-rollout')).toEqual([]);
    expect(await rolloutOf('drift-rollout')).toBeUndefined();
  });

  it('a drift found once is not corrected again before the CV changes (its rollout starts), however often its workloads change', async () => {
    managed('drift-once');
    await cached('drift-once', DIGEST);
    await detect().start();
    setImage('drift-once', OTHER);
    await waitFor(() => driftEvents('drift-once').length > 0, 'the DriftCorrected Event');
    const from = env.emulator.requests.length;
    const { store } = env.emulator;
    for (let i = 0; i < 3; i += 1) {
      const d = store.get('deployments.apps', 'drift-once', 'api')!;
      (d.metadata as any).labels = { ...(d.metadata as any).labels, touched: String(i) };
      store.update('deployments.apps', d);
      await new Promise((r) => setTimeout(r, 200));
    }
    await new Promise((r) => setTimeout(r, 300));
    expect(requestsSince(from).filter((r) => r.includes('drift-once'))).toEqual([]);
    expect(driftEvents('drift-once')[0]).toMatchObject({ count: 1 });
  });

  it('a drift the cache shows but the API server no longer has (the cache is behind) is left alone', async () => {
    managed('drift-stale', OTHER);
    await cached('drift-stale', OTHER);
    // The API server has the digest again; the watch has not told the cache yet (the check
    // starts in the same turn of the event loop).
    setImage('drift-stale', DIGEST);
    const stale = watcher.workloads('drift-stale')[0]?.containers[0]?.image;
    const checking = detect().check([cvs.get('drift-stale', 'api')!]);
    expect(stale).toBe(`example.com/team/api@${OTHER}`);
    expect(await checking).toBe(0);
    expect(driftEvents('drift-stale')).toEqual([]);
    expect(await rolloutOf('drift-stale')).toBeUndefined();
  });
});
