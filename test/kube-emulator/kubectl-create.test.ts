import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKubeEmulator, type KubeEmulator } from './index.js';
import { runKubectl } from './testing/run-kubectl.js';

let emulator: KubeEmulator;

beforeAll(async () => {
  emulator = await startKubeEmulator({ port: 0, timeScale: 10 });
});
afterAll(async () => {
  await emulator.stop();
});

async function kubectl(...args: string[]): Promise<string> {
  const result = await runKubectl(emulator.kubeconfigPath, args);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return result.stdout;
}

function lastRequest(path: string): { contentType?: string; status: number } | undefined {
  return emulator.requests.filter((r) => r.method === 'POST' && r.path === path).at(-1);
}

describe('kubectl create generators send protobuf, and the emulator takes it', () => {
  it('create namespace', async () => {
    expect(await kubectl('create', 'namespace', 'shop')).toBe('namespace/shop created\n');
    expect(lastRequest('/api/v1/namespaces')).toMatchObject({
      contentType: 'application/vnd.kubernetes.protobuf',
      status: 201,
    });
    expect(emulator.store.get('namespaces', undefined, 'shop')?.status).toEqual({
      phase: 'Active',
    });
  });

  it('create deployment web --image=nginx rolls out like one created from YAML', async () => {
    expect(await kubectl('create', 'deployment', 'web', '--image=nginx', '-n', 'shop')).toBe(
      'deployment.apps/web created\n',
    );
    const web = emulator.store.get('deployments.apps', 'shop', 'web');
    expect(web?.metadata.labels).toEqual({ app: 'web' });
    expect(web?.spec).toMatchObject({
      replicas: 1,
      selector: { matchLabels: { app: 'web' } },
      template: { spec: { containers: [{ name: 'nginx', image: 'nginx' }] } },
      strategy: { type: 'RollingUpdate' },
    });
    expect(
      await kubectl('rollout', 'status', 'deployment/web', '-n', 'shop', '--timeout=20s'),
    ).toContain('successfully rolled out');
  });

  it('create deployment with several images, replicas and a port', async () => {
    await kubectl(
      'create',
      'deployment',
      'multi',
      '--image=nginx',
      '--image=redis',
      '--replicas=3',
      '--port=80',
      '-n',
      'shop',
    );
    expect(emulator.store.get('deployments.apps', 'shop', 'multi')?.spec).toMatchObject({
      replicas: 3,
      template: {
        spec: {
          containers: [
            { name: 'nginx', image: 'nginx', ports: [{ containerPort: 80, protocol: 'TCP' }] },
            { name: 'redis', image: 'redis' },
          ],
        },
      },
    });
  });

  it('create configmap --from-literal', async () => {
    expect(
      await kubectl(
        'create',
        'configmap',
        'cfg',
        '--from-literal=a=1',
        '--from-literal=b=two',
        '-n',
        'shop',
      ),
    ).toBe('configmap/cfg created\n');
    expect(emulator.store.get('configmaps', 'shop', 'cfg')?.data).toEqual({ a: '1', b: 'two' });
  });

  it('create secret generic keeps the bytes (base64 in JSON) and the default type', async () => {
    expect(
      await kubectl(
        'create',
        'secret',
        'generic',
        's1',
        '--from-literal=password=hunter2',
        '-n',
        'shop',
      ),
    ).toBe('secret/s1 created\n');
    const secret = emulator.store.get('secrets', 'shop', 's1');
    const data = secret?.data as { password?: string } | undefined;
    expect(Buffer.from(data?.password ?? '', 'base64').toString('utf8')).toBe('hunter2');
    expect(secret?.type).toBe('Opaque');
    const jsonpath = await kubectl(
      'get',
      'secret',
      's1',
      '-n',
      'shop',
      '-o',
      'jsonpath={.data.password}',
    );
    expect(Buffer.from(jsonpath, 'base64').toString('utf8')).toBe('hunter2');
  });

  it('create job runs to completion', async () => {
    expect(
      await kubectl('create', 'job', 'hello', '--image=busybox', '-n', 'shop', '--', 'echo', 'hi'),
    ).toBe('job.batch/hello created\n');
    expect(emulator.store.get('jobs.batch', 'shop', 'hello')?.spec.template.spec).toMatchObject({
      restartPolicy: 'Never',
      containers: [{ name: 'hello', image: 'busybox', command: ['echo', 'hi'] }],
    });
    expect(
      await kubectl('wait', '--for=condition=Complete', 'job/hello', '-n', 'shop', '--timeout=20s'),
    ).toBe('job.batch/hello condition met\n');
  });

  it('create cronjob, service clusterip and serviceaccount too', async () => {
    await kubectl(
      'create',
      'cronjob',
      'nightly',
      '--image=busybox',
      '--schedule=0 3 * * *',
      '-n',
      'shop',
    );
    await kubectl('create', 'service', 'clusterip', 'web', '--tcp=80:8080', '-n', 'shop');
    await kubectl('create', 'serviceaccount', 'deployer', '-n', 'shop');
    expect(emulator.store.get('cronjobs.batch', 'shop', 'nightly')?.spec.schedule).toBe(
      '0 3 * * *',
    );
    expect(emulator.store.get('services', 'shop', 'web')?.spec.ports).toEqual([
      { name: '80-8080', protocol: 'TCP', port: 80, targetPort: 8080 },
    ]);
    expect(emulator.store.get('serviceaccounts', 'shop', 'deployer')).toBeDefined();
  });

  it('an existing name is 409 AlreadyExists, as with JSON', async () => {
    const again = await runKubectl(emulator.kubeconfigPath, [
      'create',
      'configmap',
      'cfg',
      '-n',
      'shop',
    ]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('configmaps "cfg" already exists');
  });
});

describe('protobuf bodies the emulator cannot take', () => {
  const post = (body: Buffer): Promise<Response> =>
    fetch(`${emulator.url}/api/v1/namespaces/default/configmaps`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/vnd.kubernetes.protobuf',
        Accept: 'application/json',
      },
      body,
    });

  it('without the k8s\\0 magic or truncated: 400 BadRequest', async () => {
    const noMagic = await post(Buffer.from('{"metadata":{}}'));
    expect(noMagic.status).toBe(400);
    const truncated = await post(Buffer.from([0x6b, 0x38, 0x73, 0x00, 0x0a, 0x30, 0x0a]));
    expect(truncated.status).toBe(400);
    expect(((await truncated.json()) as { message: string }).message).toContain(
      'could not be decoded',
    );
  });

  it('a kind without a field table: 415 naming application/json', async () => {
    // runtime.Unknown{typeMeta: {apiVersion: "v1", kind: "Pod"}, raw: ""}
    const typeMeta = Buffer.from([0x0a, 0x02, 0x76, 0x31, 0x12, 0x03, 0x50, 0x6f, 0x64]);
    const body = Buffer.concat([
      Buffer.from([0x6b, 0x38, 0x73, 0x00, 0x0a, typeMeta.length]),
      typeMeta,
    ]);
    const response = await post(body);
    expect(response.status).toBe(415);
    expect(((await response.json()) as { message: string }).message).toContain('application/json');
  });
});
