import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CV_GROUP, CV_PLURAL, CV_VERSION } from '../../src/api/container-version.js';
import { KubeContainerVersionStore } from '../../src/kube/container-version-store.js';
import { ConfigMapHistoryStore } from '../../src/kube/history-store.js';
import type { HistoryEntry, StoredContainerVersion } from '../../src/workers/ports.js';
import { waitFor } from '../support/wait-for.js';
import { startKubeTestEnv, type KubeTestEnv } from './kube-test-env.js';

let env: KubeTestEnv;
let ns: string;
let history: ConfigMapHistoryStore;

beforeAll(async () => {
  env = await startKubeTestEnv();
  ns = await env.namespace('history-test');
  history = new ConfigMapHistoryStore({
    kubeConfig: env.kubeConfig,
    logger: pino({ level: 'silent' }),
  });
});
afterAll(async () => {
  await env?.stop();
});

async function cv(name: string): Promise<StoredContainerVersion> {
  await env.createCv(ns, name);
  const stored = await new KubeContainerVersionStore({ kubeConfig: env.kubeConfig }).get({
    namespace: ns,
    name,
  });
  if (!stored) throw new Error('CV missing');
  return stored;
}

const entry = (n: number): HistoryEntry => ({
  id: `sha256:${String(n).repeat(4)}@2026-01-01T00:0${n}:00Z`,
  version: `v${n}`,
  digest: `sha256:${String(n).repeat(64)}`,
  image: `ghcr.io/acme/api:v${n}@sha256:${String(n).repeat(64)}`,
  startedAt: `2026-01-01T00:0${n}:00Z`,
  finishedAt: `2026-01-01T00:0${n}:30Z`,
  result: 'Succeeded',
  message: 'rolled out',
  trigger: 'push',
  workloads: ['Deployment/api'],
});

describe('ConfigMapHistoryStore', () => {
  it('adds entries newest first; adding the same id again keeps one entry', async () => {
    const owner = await cv('idem');
    await history.add(owner, entry(1), 10);
    await history.add(owner, entry(2), 10);
    await history.add(owner, entry(2), 10);
    await history.add(owner, entry(1), 10);
    expect((await history.list({ namespace: ns, name: 'idem' })).map((e) => e.version)).toEqual([
      'v2',
      'v1',
    ]);
    const configMap = await env.core.readNamespacedConfigMap({
      namespace: ns,
      name: 'idem-history',
    });
    expect(JSON.parse(configMap.data?.['history.json'] ?? '')).toHaveLength(2);
  });

  it('keeps at most limit entries, dropping the oldest, also when an old entry arrives late', async () => {
    const owner = await cv('bounded');
    for (const n of [1, 2, 3, 4, 5]) await history.add(owner, entry(n), 3);
    await history.add(owner, entry(0), 3);
    expect((await history.list({ namespace: ns, name: 'bounded' })).map((e) => e.version)).toEqual([
      'v5',
      'v4',
      'v3',
    ]);
  });

  it('is owned by the CV, labelled with it, and deleted with it', async () => {
    const owner = await cv('owned');
    await history.add(owner, entry(1), 5);
    const configMap = await env.core.readNamespacedConfigMap({
      namespace: ns,
      name: 'owned-history',
    });
    expect(configMap.metadata?.labels).toEqual({ 'cvm.dev/history-of': 'owned' });
    expect(configMap.metadata?.ownerReferences).toEqual([
      {
        apiVersion: 'cvm.dev/v1',
        kind: 'ContainerVersion',
        name: 'owned',
        uid: owner.metadata.uid,
        controller: false,
        blockOwnerDeletion: true,
      },
    ]);
    await env.custom.deleteNamespacedCustomObject({
      group: CV_GROUP,
      version: CV_VERSION,
      plural: CV_PLURAL,
      namespace: ns,
      name: 'owned',
    });
    await waitFor(
      () =>
        env.core.readNamespacedConfigMap({ namespace: ns, name: 'owned-history' }).then(
          () => false,
          () => true,
        ),
      'the history ConfigMap to be garbage-collected with its CV',
    );
    expect(await history.list({ namespace: ns, name: 'owned' })).toEqual([]);
  });

  it('concurrent adds and injected conflicts all land (optimistic concurrency, retried)', async () => {
    const owner = await cv('racy');
    await history.add(owner, entry(1), 10);
    env.emulator.faults.inject({
      method: 'PUT',
      pathPattern: '/configmaps/racy-history',
      status: 409,
      times: 2,
    });
    await Promise.all([2, 3, 4, 5].map((n) => history.add(owner, entry(n), 10)));
    expect((await history.list({ namespace: ns, name: 'racy' })).map((e) => e.version)).toEqual([
      'v5',
      'v4',
      'v3',
      'v2',
      'v1',
    ]);
  });

  it('gives up on endless conflicts with a transient error', async () => {
    const owner = await cv('stuck');
    await history.add(owner, entry(1), 10);
    env.emulator.faults.inject({
      method: 'PUT',
      pathPattern: '/configmaps/stuck-history',
      status: 409,
      times: 10,
    });
    await expect(history.add(owner, entry(2), 10)).rejects.toMatchObject({
      transient: true,
      status: 409,
    });
    env.emulator.faults.clear();
  });

  it('starts afresh when the ConfigMap belongs to an earlier CV of the same name', async () => {
    const first = await cv('reborn');
    await history.add(first, entry(1), 10);
    // An earlier CV's ConfigMap that the garbage collector has not removed yet.
    await env.core.patchNamespacedConfigMap({
      namespace: ns,
      name: 'reborn-history',
      body: [{ op: 'replace', path: '/metadata/ownerReferences/0/uid', value: 'old-uid' }],
    });
    await history.add(first, entry(2), 10);
    expect((await history.list({ namespace: ns, name: 'reborn' })).map((e) => e.version)).toEqual([
      'v2',
    ]);
  });
});
