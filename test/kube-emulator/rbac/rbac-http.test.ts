import { AppsV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectl } from '../controllers/kubectl.js';
import { startKubeEmulator, type KubeEmulator } from '../index.js';
import { EMULATOR_TOKEN } from '../kubeconfig.js';
import { deploymentManifest } from '../testing/fixtures.js';

let emulator: KubeEmulator;
let token: string;

async function call(method: string, path: string, bearer: string, body?: unknown) {
  const response = await fetch(`${emulator.url}${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${bearer}`,
      'Content-Type':
        method === 'PATCH' ? 'application/strategic-merge-patch+json' : 'application/json',
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

const rbac = 'rbac.authorization.k8s.io';

beforeAll(async () => {
  emulator = await startKubeEmulator({ port: 0 });
  const admin = (method: string, path: string, body: unknown) =>
    call(method, path, EMULATOR_TOKEN, body);
  for (const name of ['cvm-system', 'shop'])
    expect((await admin('POST', '/api/v1/namespaces', { metadata: { name } })).status).toBe(201);
  expect(
    (
      await admin('POST', '/api/v1/namespaces/cvm-system/serviceaccounts', {
        metadata: { name: 'cvm' },
      })
    ).status,
  ).toBe(201);
  expect(
    (
      await admin(
        'POST',
        '/apis/apps/v1/namespaces/shop/deployments',
        deploymentManifest('api', 'example/api:1'),
      )
    ).status,
  ).toBe(201);
  expect(
    (
      await admin('POST', `/apis/${rbac}/v1/clusterroles`, {
        metadata: { name: 'cvm' },
        rules: [{ verbs: ['get', 'list'], apiGroups: ['apps'], resources: ['deployments'] }],
      })
    ).status,
  ).toBe(201);
  expect(
    (
      await admin('POST', `/apis/${rbac}/v1/clusterrolebindings`, {
        metadata: { name: 'cvm' },
        roleRef: { apiGroup: rbac, kind: 'ClusterRole', name: 'cvm' },
        subjects: [{ kind: 'ServiceAccount', name: 'cvm', namespace: 'cvm-system' }],
      })
    ).status,
  ).toBe(201);
  token = emulator.rbac.serviceAccountToken('cvm-system', 'cvm');
});
afterAll(async () => {
  await emulator.stop();
});

describe('RBAC over HTTP', () => {
  it('serves rbac.authorization.k8s.io/v1 in discovery', async () => {
    const list = await call('GET', `/apis/${rbac}/v1`, token);
    expect(list.status).toBe(200);
    expect(
      (list.body.resources as { name: string; namespaced: boolean }[]).map((r) => [
        r.name,
        r.namespaced,
      ]),
    ).toEqual(
      expect.arrayContaining([
        ['roles', true],
        ['rolebindings', true],
        ['clusterroles', false],
        ['clusterrolebindings', false],
      ]),
    );
  });

  it('lets a ServiceAccount do what its ClusterRole grants and records it', async () => {
    emulator.rbac.clearUsage();
    expect((await call('GET', '/apis/apps/v1/namespaces/shop/deployments/api', token)).status).toBe(
      200,
    );
    expect((await call('GET', '/apis/apps/v1/deployments', token)).status).toBe(200);
    expect(emulator.rbac.usage('cvm-system', 'cvm')).toEqual([
      { verb: 'get', apiGroup: 'apps', resource: 'deployments', namespace: 'shop', name: 'api' },
      { verb: 'list', apiGroup: 'apps', resource: 'deployments' },
    ]);
  });

  it("answers 403 with kube-apiserver's Status for anything else", async () => {
    const patch = await call('PATCH', '/apis/apps/v1/namespaces/shop/deployments/api', token, {
      spec: { replicas: 3 },
    });
    expect(patch).toEqual({
      status: 403,
      body: {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message:
          'deployments.apps "api" is forbidden: User "system:serviceaccount:cvm-system:cvm" cannot patch resource "deployments" in API group "apps" in the namespace "shop"',
        reason: 'Forbidden',
        details: { name: 'api', group: 'apps', kind: 'deployments' },
        code: 403,
      },
    });
    const scale = await call('GET', '/apis/apps/v1/namespaces/shop/deployments/api/scale', token);
    expect(scale.status).toBe(403);
    expect(scale.body.message).toContain('cannot get resource "deployments/scale"');
    const nodes = await call('GET', '/api/v1/nodes', token);
    expect(nodes.body.message).toBe(
      'nodes is forbidden: User "system:serviceaccount:cvm-system:cvm" cannot list resource "nodes" in API group "" at the cluster scope',
    );
    // The admin's token is not a ServiceAccount's: it may do anything.
    expect(
      (
        await call('PATCH', '/apis/apps/v1/namespaces/shop/deployments/api', EMULATOR_TOKEN, {
          metadata: { labels: { by: 'admin' } },
        })
      ).status,
    ).toBe(200);
  });

  it('re-reads the bindings on every request (a Role bound later grants at once)', async () => {
    const admin = (method: string, path: string, body: unknown) =>
      call(method, path, EMULATOR_TOKEN, body);
    const path = '/apis/coordination.k8s.io/v1/namespaces/cvm-system/leases';
    const lease = { metadata: { name: 'cvm-reconciler' }, spec: {} };
    expect((await call('POST', path, token, lease)).status).toBe(403);
    await admin('POST', `/apis/${rbac}/v1/namespaces/cvm-system/roles`, {
      metadata: { name: 'cvm-leader' },
      rules: [{ verbs: ['create'], apiGroups: ['coordination.k8s.io'], resources: ['leases'] }],
    });
    await admin('POST', `/apis/${rbac}/v1/namespaces/cvm-system/rolebindings`, {
      metadata: { name: 'cvm-leader' },
      roleRef: { apiGroup: rbac, kind: 'Role', name: 'cvm-leader' },
      subjects: [{ kind: 'ServiceAccount', name: 'cvm' }],
    });
    expect((await call('POST', path, token, lease)).status).toBe(201);
    // The Role is the namespace's: the same create in another namespace stays forbidden.
    const elsewhere = await call(
      'POST',
      '/apis/coordination.k8s.io/v1/namespaces/shop/leases',
      token,
      lease,
    );
    expect(elsewhere.status).toBe(403);
    expect(elsewhere.body.message).toBe(
      'leases.coordination.k8s.io is forbidden: User "system:serviceaccount:cvm-system:cvm" cannot create resource "leases" in API group "coordination.k8s.io" in the namespace "shop"',
    );
  });

  it('shows the 403 through kubectl impersonating the ServiceAccount (--as)', async () => {
    const as = ['--as', 'system:serviceaccount:cvm-system:cvm'];
    const k = (args: string[]) => kubectl(emulator.kubeconfigPath, [...as, ...args]);
    const get = await k(['get', 'deployment', 'api', '-n', 'shop', '-o', 'name']);
    expect(get).toMatchObject({ code: 0, stdout: 'deployment.apps/api\n' });
    const del = await k(['delete', 'deployment', 'api', '-n', 'shop']);
    expect(del.code).not.toBe(0);
    expect(del.stderr).toContain(
      'Error from server (Forbidden): deployments.apps "api" is forbidden: User "system:serviceaccount:cvm-system:cvm" cannot delete resource "deployments" in API group "apps" in the namespace "shop"',
    );
    expect(emulator.store.get('deployments.apps', 'shop', 'api')).toBeDefined();
  });

  it('authenticates the token of a ServiceAccount kubeconfig (client-node sends it)', async () => {
    const kubeconfig = emulator.writeServiceAccountKubeconfig('cvm-system', 'cvm');
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
    const apps = kc.makeApiClient(AppsV1Api);
    expect(
      (await apps.readNamespacedDeployment({ namespace: 'shop', name: 'api' })).metadata?.name,
    ).toBe('api');
    const error = await apps.deleteNamespacedDeployment({ namespace: 'shop', name: 'api' }).then(
      () => undefined,
      (e: unknown) => e as { code?: number; body?: string },
    );
    expect(error?.code).toBe(403);
    expect(JSON.parse(error?.body ?? '{}').reason).toBe('Forbidden');
  });

  it('answers 401 once the ServiceAccount is deleted', async () => {
    await call('POST', '/api/v1/namespaces/shop/serviceaccounts', EMULATOR_TOKEN, {
      metadata: { name: 'short-lived' },
    });
    const shortLived = emulator.rbac.serviceAccountToken('shop', 'short-lived');
    expect((await call('GET', '/apis/apps/v1', shortLived)).status).toBe(200);
    await call('DELETE', '/api/v1/namespaces/shop/serviceaccounts/short-lived', EMULATOR_TOKEN);
    const gone = await call('GET', '/apis/apps/v1', shortLived);
    expect(gone).toMatchObject({ status: 401, body: { reason: 'Unauthorized', code: 401 } });
  });
});
