import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKubeEmulator, type KubeEmulator } from '../kube-emulator/index.js';
import { kubectl } from '../kube-emulator/controllers/kubectl.js';

const crdPath = fileURLToPath(new URL('../../infra/kubernetes/crd.yaml', import.meta.url));
let emulator: KubeEmulator;
const k = (args: string[], input?: string) =>
  kubectl(emulator.kubeconfigPath, args, input === undefined ? {} : { input });

const cv = (spec: Record<string, unknown>) =>
  JSON.stringify({
    apiVersion: 'cvm.dev/v1',
    kind: 'ContainerVersion',
    metadata: { name: 'api', namespace: 'default' },
    spec,
  });

beforeAll(async () => {
  emulator = await startKubeEmulator({ port: 0 });
  const applied = await k(['apply', '-f', crdPath]);
  expect(applied.stderr).toBe('');
  const established = await k([
    'wait',
    '--for=condition=established',
    'crd/containerversions.cvm.dev',
    '--timeout=20s',
  ]);
  expect(established.code).toBe(0);
}, 60_000);

afterAll(async () => {
  await emulator?.stop();
});

describe('the generated CRD in an API server', () => {
  it('rejects a ContainerVersion with bad fields, naming each one', async () => {
    const result = await k(
      ['create', '-f', '-'],
      cv({
        imageRepo: 'ghcr.io/acme/api',
        selector: { app: 'api' },
        container: 'api',
        pollIntervalSeconds: -5,
      }),
    );
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('spec.tag');
    expect(result.stderr).toContain('spec.pollIntervalSeconds');
  });

  it('accepts a minimal ContainerVersion and fills in the defaults', async () => {
    const created = await k(
      ['create', '-f', '-'],
      cv({
        imageRepo: 'ghcr.io/acme/api',
        tag: 'prod',
        selector: { app: 'api' },
        container: 'api',
      }),
    );
    expect(created.stderr).toBe('');
    const got = await k(['get', 'cv', 'api', '-o', 'json']);
    expect(JSON.parse(got.stdout).spec).toMatchObject({
      pollIntervalSeconds: 300,
      strategy: { type: 'Rolling' },
      rollback: { enabled: true, progressDeadlineSeconds: 600 },
      history: { enabled: true, limit: 50 },
      policy: { allowRegression: false, minImageAgeSeconds: 0 },
      suspend: false,
    });
  });
});
