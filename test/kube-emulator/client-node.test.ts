import {
  ApiException,
  AppsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  makeInformer,
  PatchStrategy,
  setHeaderOptions,
  type V1ConfigMap,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKubeEmulator, type KubeEmulator } from './index.js';
import { containerVersion, containerVersionCrd, deploymentManifest } from './testing/fixtures.js';

let emulator: KubeEmulator;
let kc: KubeConfig;

beforeAll(async () => {
  emulator = await startKubeEmulator({ port: 0 });
  kc = new KubeConfig();
  kc.loadFromFile(emulator.kubeconfigPath);
});
afterAll(async () => {
  await emulator.stop();
});

/** The Status body of a failed call. */
async function failure(
  call: Promise<unknown>,
): Promise<{ code: number; status: Record<string, unknown> }> {
  try {
    await call;
  } catch (error) {
    if (!(error instanceof ApiException)) throw error;
    const body: unknown = error.body;
    const status = (typeof body === 'string' ? JSON.parse(body) : body) as Record<string, unknown>;
    return { code: error.code, status };
  }
  throw new Error('expected the call to fail');
}

async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('@kubernetes/client-node 1.4 against the emulator', () => {
  it('creates, reads, lists, replaces and deletes with Kubernetes status codes and Status bodies', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    const namespace = 'client-crud';
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    const created = await core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: 'cfg', labels: { app: 'a' } }, data: { k: 'v' } },
    });
    expect(created.metadata?.uid).toBeTruthy();
    expect(created.metadata?.creationTimestamp).toBeInstanceOf(Date);

    const read = await core.readNamespacedConfigMap({ name: 'cfg', namespace });
    expect(read.data).toEqual({ k: 'v' });
    const list = await core.listNamespacedConfigMap({ namespace, labelSelector: 'app in (a)' });
    expect(list.items.map((i) => i.metadata?.name)).toEqual(['cfg']);

    const replaced = await core.replaceNamespacedConfigMap({
      name: 'cfg',
      namespace,
      body: { ...read, data: { k: 'w' } },
    });
    expect(Number(replaced.metadata?.resourceVersion)).toBeGreaterThan(
      Number(read.metadata?.resourceVersion),
    );

    const stale = await failure(
      core.replaceNamespacedConfigMap({
        name: 'cfg',
        namespace,
        body: { ...read, data: { k: 'x' } },
      }),
    );
    expect(stale.code).toBe(409);
    expect(stale.status).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message:
        'Operation cannot be fulfilled on configmaps "cfg": the object has been modified; please apply your changes to the latest version and try again',
      reason: 'Conflict',
      details: { name: 'cfg', kind: 'configmaps' },
      code: 409,
    });

    const exists = await failure(
      core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'cfg' } } }),
    );
    expect(exists.code).toBe(409);
    expect(exists.status.reason).toBe('AlreadyExists');

    await core.deleteNamespacedConfigMap({ name: 'cfg', namespace });
    const missing = await failure(core.readNamespacedConfigMap({ name: 'cfg', namespace }));
    expect(missing.code).toBe(404);
    expect(missing.status).toMatchObject({
      reason: 'NotFound',
      message: 'configmaps "cfg" not found',
      details: { name: 'cfg', kind: 'configmaps' },
    });

    const noNamespace = await failure(
      core.createNamespacedConfigMap({ namespace: 'nope', body: { metadata: { name: 'x' } } }),
    );
    expect(noNamespace.status).toMatchObject({ code: 404, message: 'namespaces "nope" not found' });
  });

  it('patches a Deployment with each content type', async () => {
    const apps = kc.makeApiClient(AppsV1Api);
    const namespace = 'default';
    await apps.createNamespacedDeployment({ namespace, body: deploymentManifest('patched') });

    await apps.patchNamespacedDeployment({
      name: 'patched',
      namespace,
      body: [{ op: 'replace', path: '/spec/replicas', value: 3 }],
    });
    await apps.patchNamespacedDeployment(
      {
        name: 'patched',
        namespace,
        body: {
          spec: {
            template: { spec: { containers: [{ name: 'app', image: 'repo/app@sha256:abc' }] } },
          },
        },
      },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    await apps.patchNamespacedDeployment(
      { name: 'patched', namespace, body: { metadata: { annotations: { 'cvm.dev/rev': '2' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    const applied = await apps.patchNamespacedDeployment(
      {
        name: 'patched',
        namespace,
        fieldManager: 'cvm',
        force: true,
        body: {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: 'patched', namespace, labels: { owner: 'cvm' } },
        },
      },
      setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
    );
    expect(applied.spec?.replicas).toBe(3);
    expect(
      applied.spec?.template.spec?.containers.map((c) => [
        c.name,
        c.image,
        c.ports?.[0]?.containerPort,
      ]),
    ).toEqual([['app', 'repo/app@sha256:abc', 80]]);
    expect(applied.metadata?.annotations?.['cvm.dev/rev']).toBe('2');
    expect(applied.metadata?.labels).toEqual({ app: 'patched', owner: 'cvm' });
    expect(applied.metadata?.generation).toBe(3);
    const types = emulator.requests
      .filter((r) => r.method === 'PATCH' && r.path.endsWith('/deployments/patched'))
      .map((r) => r.contentType);
    expect(types).toEqual([
      'application/json-patch+json',
      'application/strategic-merge-patch+json',
      'application/merge-patch+json',
      'application/apply-patch+yaml',
    ]);

    const unknownType = await failure(
      apps.patchNamespacedDeployment(
        { name: 'patched', namespace, body: {} },
        setHeaderOptions('Content-Type', 'application/x-unknown'),
      ),
    );
    expect(unknownType.code).toBe(415);
    expect(unknownType.status.reason).toBe('UnsupportedMediaType');
  });

  it('scale and status subresources behave as Kubernetes', async () => {
    const apps = kc.makeApiClient(AppsV1Api);
    const namespace = 'default';
    await apps.createNamespacedDeployment({ namespace, body: deploymentManifest('scaled') });
    const scale = await apps.readNamespacedDeploymentScale({ name: 'scaled', namespace });
    expect(scale.spec?.replicas).toBe(2);
    expect(scale.status?.selector).toBe('app=scaled');
    await apps.replaceNamespacedDeploymentScale({
      name: 'scaled',
      namespace,
      body: { ...scale, spec: { replicas: 5 } },
    });
    const after = await apps.readNamespacedDeployment({ name: 'scaled', namespace });
    expect(after.spec?.replicas).toBe(5);
    expect(after.metadata?.generation).toBe(2);
  });

  it('rejects a Lease MicroTime with milliseconds as kube-apiserver does', async () => {
    const coordination = kc.makeApiClient(CoordinationV1Api);
    const bad = await failure(
      coordination.createNamespacedLease({
        namespace: 'default',
        body: {
          metadata: { name: 'leader' },
          spec: { holderIdentity: 'a', renewTime: '2026-11-27T20:00:05.123Z' as unknown as Date },
        },
      }),
    );
    expect(bad.code).toBe(400);
    expect(bad.status.message).toBe(
      'Lease in version "v1" cannot be handled as a Lease: parsing time "2026-11-27T20:00:05.123Z" as "2006-01-02T15:04:05.000000Z07:00": cannot parse ".123Z" as ".000000"',
    );
  });

  it('an informer survives a 410 Gone after compaction and catches up by re-listing', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    const namespace = 'informer';
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    const informer = makeInformer<V1ConfigMap>(
      kc,
      `/api/v1/namespaces/${namespace}/configmaps`,
      () => core.listNamespacedConfigMap({ namespace }),
    );
    const seen: string[] = [];
    informer.on('add', (o) => seen.push(`add ${o.metadata?.name ?? ''}`));
    informer.on('update', (o) => seen.push(`update ${o.metadata?.name ?? ''}=${o.data?.v ?? ''}`));
    informer.on('delete', (o) => seen.push(`delete ${o.metadata?.name ?? ''}`));
    let stopping = false;
    const errors: unknown[] = [];
    informer.on('error', (e) => {
      if (!stopping) errors.push(e);
    });
    await core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: 'a' }, data: { v: '1' } },
    });
    await informer.start();
    await until(() => seen.includes('add a'));

    await core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: 'b' }, data: { v: '1' } },
    });
    await until(() => seen.includes('add b'));
    const lists = (): number =>
      emulator.requests.filter(
        (r) =>
          r.path === `/api/v1/namespaces/${namespace}/configmaps` &&
          r.method === 'GET' &&
          !r.query.includes('watch'),
      ).length;
    expect(lists()).toBe(1);

    // In one tick: the watch stream ends, history is compacted, and objects change unseen.
    emulator.closeWatches();
    emulator.store.create('configmaps', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'c', namespace },
    });
    emulator.compact();
    emulator.store.delete('configmaps', namespace, 'b');
    const a = emulator.store.get('configmaps', namespace, 'a');
    emulator.store.update('configmaps', { ...a!, data: { v: '2' } });

    await until(
      () => seen.includes('delete b') && seen.includes('update a=2') && seen.includes('add c'),
    );
    expect(lists()).toBe(2);
    expect(
      informer
        .list(namespace)
        .map((o) => o.metadata?.name)
        .sort(),
    ).toEqual(['a', 'c']);
    stopping = true;
    await informer.stop();
    expect(errors).toEqual([]);
  });

  it('validates and defaults custom resources through CustomObjectsApi', async () => {
    const custom = kc.makeApiClient(CustomObjectsApi);
    // Created over plain HTTP: client-node's typed model would drop `x-kubernetes-*` keys.
    const response = await fetch(
      `${emulator.url}/apis/apiextensions.k8s.io/v1/customresourcedefinitions`,
      {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(containerVersionCrd),
      },
    );
    expect(response.status).toBe(201);
    const g = {
      group: 'cvm.dev',
      version: 'v1alpha1',
      namespace: 'default',
      plural: 'containerversions',
    };
    await until(() => emulator.store.registry.get('containerversions.cvm.dev') !== undefined);

    const created = (await custom.createNamespacedCustomObject({
      ...g,
      body: containerVersion('api', {
        image: 'repo/api',
        tag: 'v1',
        labels: { a: 'b' },
        extra: { anything: [1] },
        dropped: true,
      }),
    })) as { spec: Record<string, unknown>; metadata: { generation: number } };
    expect(created.spec).toEqual({
      image: 'repo/api',
      tag: 'v1',
      labels: { a: 'b' },
      extra: { anything: [1] },
      pollIntervalSeconds: 300,
      policy: 'latest',
    });
    expect(created.metadata.generation).toBe(1);

    const invalid = await failure(
      custom.createNamespacedCustomObject({
        ...g,
        body: containerVersion('bad', { image: 'x', pollIntervalSeconds: 'soon' }),
      }),
    );
    expect(invalid.code).toBe(422);
    expect(invalid.status).toMatchObject({
      reason: 'Invalid',
      message:
        'ContainerVersion.cvm.dev "bad" is invalid: [spec.tag: Required value, spec.pollIntervalSeconds: Invalid value: "string": spec.pollIntervalSeconds in body must be of type integer: "string"]',
      details: {
        name: 'bad',
        group: 'cvm.dev',
        kind: 'ContainerVersion',
        causes: [
          { reason: 'FieldValueRequired', message: 'Required value', field: 'spec.tag' },
          {
            reason: 'FieldValueTypeInvalid',
            message:
              'Invalid value: "string": spec.pollIntervalSeconds in body must be of type integer: "string"',
            field: 'spec.pollIntervalSeconds',
          },
        ],
      },
    });

    const smp = await failure(
      custom.patchNamespacedCustomObject(
        { ...g, name: 'api', body: { spec: { tag: 'v2' } } },
        setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
      ),
    );
    expect(smp.code).toBe(415);

    await custom.patchNamespacedCustomObjectStatus(
      { ...g, name: 'api', body: { status: { phase: 'Deploying', observedGeneration: 1 } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    const withStatus = (await custom.getNamespacedCustomObject({ ...g, name: 'api' })) as {
      status: unknown;
      metadata: { generation: number };
    };
    expect(withStatus.status).toEqual({ phase: 'Deploying', observedGeneration: 1 });
    expect(withStatus.metadata.generation).toBe(1);
  });
});
