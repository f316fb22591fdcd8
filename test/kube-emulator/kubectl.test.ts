import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { KubeObject } from './contract.js';
import { startKubeEmulator, type KubeEmulator } from './index.js';
import { containerVersion, containerVersionCrd, deploymentManifest } from './testing/fixtures.js';
import { runKubectl, watchKubectl, type KubectlResult } from './testing/run-kubectl.js';

let emulator: KubeEmulator;
let kc: string;

beforeAll(async () => {
  emulator = await startKubeEmulator({ port: 0, timeScale: 10 });
  kc = emulator.kubeconfigPath;
});
afterAll(async () => {
  await emulator.stop();
});

const kubectl = (args: string[], input?: string): Promise<KubectlResult> =>
  runKubectl(kc, args, input);

async function ok(args: string[], input?: string): Promise<string> {
  const result = await kubectl(args, input);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return result.stdout;
}

function yamlDocs(...objects: unknown[]): string {
  return objects.map((o) => stringify(o)).join('---\n');
}

function deployment(name: string): KubeObject {
  const found = emulator.store.get('deployments.apps', 'default', name);
  if (!found) throw new Error(`deployment ${name} missing`);
  return found;
}

describe('kubectl 1.32 against the emulator', () => {
  it('api-resources lists the built-in resources with their short names', async () => {
    const out = await ok(['api-resources']);
    expect(out).toMatch(/^deployments\s+deploy\s+apps\/v1\s+true\s+Deployment$/m);
    expect(out).toMatch(/^configmaps\s+cm\s+v1\s+true\s+ConfigMap$/m);
    expect(out).toMatch(/^leases\s+coordination\.k8s\.io\/v1\s+true\s+Lease$/m);
    expect(out).toMatch(
      /^customresourcedefinitions\s+crd,crds\s+apiextensions\.k8s\.io\/v1\s+false/m,
    );
  });

  it('create -f of a Deployment, Service and ConfigMap; get -o json shows server defaults', async () => {
    const manifests = yamlDocs(
      deploymentManifest('web'),
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'web' },
        spec: { selector: { app: 'web' }, ports: [{ port: 80 }] },
      },
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'web-config', labels: { app: 'web' } },
        data: { a: '1' },
      },
    );
    const out = await ok(['create', '-f', '-'], manifests);
    expect(out).toBe(
      'deployment.apps/web created\nservice/web created\nconfigmap/web-config created\n',
    );
    const json = JSON.parse(await ok(['get', 'deployment', 'web', '-o', 'json'])) as KubeObject;
    expect(json.metadata.generation).toBe(1);
    expect(json.spec).toMatchObject({
      progressDeadlineSeconds: 600,
      revisionHistoryLimit: 10,
      strategy: {
        type: 'RollingUpdate',
        rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' },
      },
    });
    expect(json.spec.template.spec.containers[0]).toMatchObject({
      imagePullPolicy: 'IfNotPresent',
      terminationMessagePath: '/dev/termination-log',
    });
    const svc = JSON.parse(await ok(['get', 'svc', 'web', '-o', 'json'])) as KubeObject;
    expect(svc.spec).toMatchObject({
      clusterIP: expect.stringMatching(/^10\.96\.\d+\.\d+$/) as unknown,
      type: 'ClusterIP',
      ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }],
    });
    const again = await kubectl(['create', '-f', '-'], stringify(deploymentManifest('web')));
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('Error from server (AlreadyExists)');
    expect(again.stderr).toContain('deployments.apps "web" already exists');
  });

  it('get -l selects with equality and set-based selectors', async () => {
    await ok(
      ['create', '-f', '-'],
      stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'other' } }),
    );
    await ok(['label', 'configmap', 'other', 'app=api']);
    expect(await ok(['get', 'configmaps', '-l', 'app=web', '-o', 'name'])).toBe(
      'configmap/web-config\n',
    );
    expect(await ok(['get', 'configmaps', '-l', 'app in (api,db)', '-o', 'name'])).toBe(
      'configmap/other\n',
    );
    expect(await ok(['get', 'configmaps', '-l', 'app,app notin (web)', '-o', 'name'])).toBe(
      'configmap/other\n',
    );
    expect(await ok(['get', 'configmaps', '-l', '!app', '-o', 'name'])).toBe('');
  });

  it('patch --type strategic, merge and json change the object as kube-apiserver would', async () => {
    await ok([
      'patch',
      'deployment',
      'web',
      '--type',
      'strategic',
      '-p',
      JSON.stringify({
        spec: {
          template: {
            spec: { containers: [{ name: 'app', env: [{ name: 'MODE', value: 'x' }] }] },
          },
        },
      }),
    ]);
    let d = deployment('web');
    expect(d.spec.template.spec.containers).toHaveLength(1);
    expect(d.spec.template.spec.containers[0]).toMatchObject({
      name: 'app',
      image: 'nginx:1.25',
      env: [{ name: 'MODE', value: 'x' }],
    });
    expect(d.metadata.generation).toBe(2);

    await ok([
      'patch',
      'deployment',
      'web',
      '--type',
      'merge',
      '-p',
      '{"metadata":{"labels":{"team":"a"}}}',
    ]);
    d = deployment('web');
    expect(d.metadata.labels).toEqual({ app: 'web', team: 'a' });
    expect(d.metadata.generation).toBe(2);

    await ok([
      'patch',
      'deployment',
      'web',
      '--type',
      'json',
      '-p',
      '[{"op":"replace","path":"/spec/replicas","value":3}]',
    ]);
    expect(deployment('web').spec.replicas).toBe(3);

    const failed = await kubectl([
      'patch',
      'deployment',
      'web',
      '--type',
      'json',
      '-p',
      '[{"op":"test","path":"/spec/replicas","value":9}]',
    ]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('The request is invalid: testing value /spec/replicas failed');
  });

  it('set image, scale, label and annotate', async () => {
    await ok(['set', 'image', 'deployment/web', 'app=nginx:1.26']);
    expect(deployment('web').spec.template.spec.containers[0].image).toBe('nginx:1.26');
    expect(await ok(['scale', 'deployment', 'web', '--replicas=1'])).toBe(
      'deployment.apps/web scaled\n',
    );
    expect(deployment('web').spec.replicas).toBe(1);
    const scaleCall = emulator.requests.find(
      (r) => r.path.endsWith('/deployments/web/scale') && r.method === 'PATCH',
    );
    expect(scaleCall?.contentType).toBe('application/merge-patch+json');
    await ok(['label', 'deployment', 'web', 'tier=front']);
    await ok(['annotate', 'deployment', 'web', 'cvm.dev/note=hello']);
    const d = deployment('web');
    expect(d.metadata.labels?.tier).toBe('front');
    expect(d.metadata.annotations?.['cvm.dev/note']).toBe('hello');
    const generation = d.metadata.generation;
    await ok(['label', 'deployment', 'web', 'tier-']);
    expect(deployment('web').metadata.labels?.tier).toBeUndefined();
    expect(deployment('web').metadata.generation).toBe(generation);
  });

  it('apply creates, then configures with a computed patch; apply --server-side too', async () => {
    const manifest = deploymentManifest('applied');
    expect(await ok(['apply', '-f', '-'], stringify(manifest))).toBe(
      'deployment.apps/applied created\n',
    );
    (manifest.spec as { replicas: number }).replicas = 4;
    expect(await ok(['apply', '-f', '-'], stringify(manifest))).toBe(
      'deployment.apps/applied configured\n',
    );
    expect(deployment('applied').spec.replicas).toBe(4);
    expect(
      deployment('applied').metadata.annotations?.[
        'kubectl.kubernetes.io/last-applied-configuration'
      ],
    ).toContain('"replicas":4');
    (manifest.spec as { replicas: number }).replicas = 5;
    expect(await ok(['apply', '--server-side', '-f', '-'], stringify(manifest))).toBe(
      'deployment.apps/applied serverside-applied\n',
    );
    expect(deployment('applied').spec.replicas).toBe(5);
    await ok(['delete', 'deployment', 'applied']);
  });

  it('get -w prints objects as they are created', async () => {
    const out = await watchKubectl(
      kc,
      ['get', 'configmaps', '-w', '-o', 'name'],
      (text) => text.includes('configmap/late'),
      async () => {
        await new Promise((r) => setTimeout(r, 700));
        await ok(
          ['create', '-f', '-'],
          stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'late' } }),
        );
      },
    );
    expect(out).toContain('configmap/web-config');
    expect(out).toContain('configmap/late');
  });

  it('delete removes the Deployment and, by cascade, its ReplicaSets and Pods', async () => {
    expect(await ok(['delete', 'deployment', 'web'])).toBe('deployment.apps "web" deleted\n');
    expect(emulator.store.list('replicasets.apps', { labelSelector: 'app=web' })).toEqual([]);
    expect(emulator.store.list('pods', { labelSelector: 'app=web' })).toEqual([]);
    const gone = await kubectl(['get', 'deployment', 'web']);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('Error from server (NotFound): deployments.apps "web" not found');
  });

  it('a CRD serves its resources: discovery, defaults, validation, status subresource', async () => {
    expect(await ok(['create', '-f', '-'], stringify(containerVersionCrd))).toBe(
      'customresourcedefinition.apiextensions.k8s.io/containerversions.cvm.dev created\n',
    );
    expect(await ok(['api-resources', '--api-group=cvm.dev'])).toMatch(
      /^containerversions\s+cv\s+cvm\.dev\/v1alpha1\s+true\s+ContainerVersion$/m,
    );
    await ok(
      ['create', '-f', '-'],
      stringify(containerVersion('app', { image: 'nginx', tag: 'v1' })),
    );
    const cv = JSON.parse(await ok(['get', 'cv', 'app', '-o', 'json'])) as KubeObject;
    expect(cv.spec).toEqual({
      image: 'nginx',
      tag: 'v1',
      pollIntervalSeconds: 300,
      policy: 'latest',
    });
    expect(await ok(['get', 'cvm', '-o', 'name'])).toBe('containerversion.cvm.dev/app\n');

    const invalid = await kubectl(
      ['create', '-f', '-'],
      stringify(containerVersion('bad', { image: 'x', tag: 'x', policy: 'nope' })),
    );
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain('The ContainerVersion "bad" is invalid');
    expect(invalid.stderr).toContain(
      `spec.tag: Invalid value: "x": spec.tag in body should match '^v'`,
    );
    expect(invalid.stderr).toContain(
      'spec.policy: Unsupported value: "nope": supported values: "semver", "latest"',
    );

    const missing = await kubectl(
      ['create', '-f', '-'],
      stringify(containerVersion('missing', { image: 'x' })),
    );
    expect(missing.stderr).toContain('spec.tag: Required value');

    const unknown = await kubectl(
      ['create', '-f', '-'],
      stringify(containerVersion('unknown', { image: 'x', tag: 'v1', nope: 1 })),
    );
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('strict decoding error: unknown field "spec.nope"');

    const smp = await kubectl([
      'patch',
      'cv',
      'app',
      '--type',
      'strategic',
      '-p',
      '{"spec":{"tag":"v2"}}',
    ]);
    expect(smp.code).toBe(1);
    expect(smp.stderr).toContain('the body of the request was in an unknown format');

    await ok([
      'patch',
      'cv',
      'app',
      '--type',
      'merge',
      '-p',
      '{"spec":{"tag":"v2"},"status":{"phase":"Ignored"}}',
    ]);
    const patched = emulator.store.get('containerversions.cvm.dev', 'default', 'app');
    expect(patched?.spec.tag).toBe('v2');
    expect(patched?.status).toBeUndefined();
    expect(patched?.metadata.generation).toBe(2);

    await ok([
      'patch',
      'cv',
      'app',
      '--subresource=status',
      '--type',
      'merge',
      '-p',
      '{"spec":{"tag":"v9"},"status":{"phase":"Ready","observedGeneration":2}}',
    ]);
    const withStatus = emulator.store.get('containerversions.cvm.dev', 'default', 'app');
    expect(withStatus?.status).toEqual({ phase: 'Ready', observedGeneration: 2 });
    expect(withStatus?.spec.tag).toBe('v2');
    expect(withStatus?.metadata.generation).toBe(2);
  });
});
