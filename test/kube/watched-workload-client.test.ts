import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeWorkloadClient, WatchedWorkloadClient } from '../../src/kube/workload-client.js';
import { KubeWorkloadWatcher } from '../../src/kube/workload-watcher.js';
import { waitFor } from '../support/wait-for.js';
import { startKubeTestEnv, type KubeTestEnv } from './kube-test-env.js';

// The rollout's `list` of the selected workloads (issue 16: four LISTs per resolve, two resolves
// per sync): the watch says which, a GET each reads them as they are now.
const logger = pino({ level: 'silent' });
const NS = 'watched';
let env: KubeTestEnv;

const deployment = (name: string, labels: Record<string, string>, image = 'example.com/a:1') => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: NS, labels },
  spec: {
    replicas: 1,
    selector: { matchLabels: { run: name } },
    template: {
      metadata: { labels: { run: name } },
      spec: { containers: [{ name: 'api', image }] },
    },
  },
});

beforeAll(async () => {
  env = await startKubeTestEnv({ podReadySeconds: 0 });
  await env.namespace(NS);
  const { store } = env.emulator;
  store.create('deployments.apps', deployment('api', { app: 'shop', tier: 'web' }));
  store.create('deployments.apps', deployment('worker', { app: 'shop', tier: 'jobs' }));
  store.create('deployments.apps', deployment('other', { app: 'blog' }));
  store.create('statefulsets.apps', {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'db', namespace: NS, labels: { app: 'shop' } },
    spec: {
      replicas: 1,
      serviceName: 'db',
      selector: { matchLabels: { run: 'db' } },
      template: {
        metadata: { labels: { run: 'db' } },
        spec: { containers: [{ name: 'api', image: 'example.com/db:1' }] },
      },
    },
  });
}, 60_000);

afterAll(async () => {
  await env?.stop();
});

/** The API requests since `from`, as `VERB path` (watches left out). */
const requestsSince = (from: number) =>
  env.emulator.requests
    .slice(from)
    .filter((r) => !r.query.includes('watch='))
    .map((r) => `${r.method} ${r.path}`);

const names = (ws: { kind: string; name: string }[]) => ws.map((w) => `${w.kind}/${w.name}`);

describe('WatchedWorkloadClient (emulator over HTTP)', () => {
  it('before the watch has listed, it lists every kind, as the plain client does', async () => {
    const watcher = new KubeWorkloadWatcher({ kubeConfig: env.kubeConfig, logger });
    const client = new WatchedWorkloadClient(
      new KubeWorkloadClient({ kubeConfig: env.kubeConfig }),
      watcher,
    );
    const from = env.emulator.requests.length;
    expect(names(await client.list(NS, { app: 'shop' }))).toEqual([
      'Deployment/api',
      'Deployment/worker',
      'StatefulSet/db',
    ]);
    expect(requestsSince(from).filter((r) => r.startsWith('GET') && r.endsWith('s'))).toHaveLength(
      4,
    );
  });

  it('once it has, one GET per selected workload, each as the API server holds it now, not as watched', async () => {
    const watcher = new KubeWorkloadWatcher({ kubeConfig: env.kubeConfig, logger });
    const plain = new KubeWorkloadClient({ kubeConfig: env.kubeConfig });
    const client = new WatchedWorkloadClient(plain, watcher);
    await watcher.start();
    await watcher.synced();
    await waitFor(() => watcher.workloads(NS).length === 4, 'the four workloads in the cache');
    // The watch stops, so its cache is what it was; the API server moves on.
    await watcher.stop();
    await plain.patch(
      'Deployment',
      { namespace: NS, name: 'api' },
      { spec: { template: { spec: { containers: [{ name: 'api', image: 'example.com/a:2' }] } } } },
    );
    await plain.patch(
      'Deployment',
      { namespace: NS, name: 'worker' },
      {
        metadata: { labels: { app: 'moved' } },
      },
    );
    env.emulator.store.delete('statefulsets.apps', NS, 'db');

    const from = env.emulator.requests.length;
    const listed = await client.list(NS, { app: 'shop' });
    // The relabelled one and the deleted one are left out; the patched one has its new image.
    expect(names(listed)).toEqual(['Deployment/api']);
    expect(listed[0]?.containers).toEqual([{ name: 'api', image: 'example.com/a:2' }]);
    expect(requestsSince(from).sort()).toEqual([
      `GET /apis/apps/v1/namespaces/${NS}/deployments/api`,
      `GET /apis/apps/v1/namespaces/${NS}/deployments/worker`,
      `GET /apis/apps/v1/namespaces/${NS}/statefulsets/db`,
    ]);
    // A selector the cache matches nothing with (a workload created an instant ago) is listed.
    env.emulator.store.create('deployments.apps', deployment('new', { app: 'fresh' }));
    expect(names(await client.list(NS, { app: 'fresh' }))).toEqual(['Deployment/new']);
  });
});
