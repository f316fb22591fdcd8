import { CoreV1Api, KubeConfig, type V1Endpoints } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../support/wait-for.js';
import { startKubeEmulator, type KubeEmulator } from '../index.js';
import { kubectl } from './kubectl.js';

let emulator: KubeEmulator | undefined;
afterEach(async () => {
  await emulator?.stop();
  emulator = undefined;
});

function deployment(name: string, replicas: number) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default', labels: { app: 'web' } },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'web', track: name } },
      template: {
        metadata: { labels: { app: 'web', track: name } },
        spec: {
          containers: [
            { name: 'main', image: 'nginx:1.25', ports: [{ name: 'http', containerPort: 8080 }] },
          ],
        },
      },
    },
  };
}

async function apply(kubeconfig: string, object: unknown): Promise<void> {
  const result = await kubectl(kubeconfig, ['apply', '-f', '-'], { input: JSON.stringify(object) });
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
}

/** Names of the ready Pods behind the Endpoints, sorted; undefined while it does not exist. */
async function readyPods(core: CoreV1Api): Promise<string[] | undefined> {
  let endpoints: V1Endpoints;
  try {
    endpoints = await core.readNamespacedEndpoints({ name: 'web', namespace: 'default' });
  } catch {
    return undefined;
  }
  return (endpoints.subsets ?? [])
    .flatMap((s) => s.addresses ?? [])
    .map((a) => a.targetRef?.name ?? '')
    .sort();
}

/** The names of the `count` Pods of `track`, once its ReplicaSet made them all. */
async function podNames(core: CoreV1Api, track: string, count: number): Promise<string[]> {
  return waitFor(async () => {
    const pods = await core.listNamespacedPod({
      namespace: 'default',
      labelSelector: `track=${track}`,
    });
    const names = pods.items.map((p) => p.metadata?.name ?? '').sort();
    return names.length === count && names;
  }, `${count} ${track} Pods`);
}

const same = (a: string[] | undefined, b: string[]) => JSON.stringify(a) === JSON.stringify(b);

describe('Endpoints through the API (kubectl and client-node)', () => {
  it('follows a blue-green switch of the Service selector and goes away with the Service', async () => {
    emulator = await startKubeEmulator({ timeScale: 10, podReadySeconds: 1 });
    const kc = emulator.kubeconfigPath;
    const config = new KubeConfig();
    config.loadFromFile(kc);
    const core = config.makeApiClient(CoreV1Api);
    await apply(kc, deployment('blue', 2));
    await apply(kc, deployment('green', 2));
    await apply(kc, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'default' },
      spec: {
        selector: { app: 'web', track: 'blue' },
        ports: [{ name: 'http', port: 80, targetPort: 'http' }],
      },
    });
    const blue = await podNames(core, 'blue', 2);
    await waitFor(async () => same(await readyPods(core), blue), 'the blue Pods ready behind web');

    const patched = await kubectl(kc, [
      'patch',
      'service',
      'web',
      '-p',
      '{"spec":{"selector":{"track":"green"}}}',
    ]);
    expect(patched.code, patched.stderr).toBe(0);
    const green = await podNames(core, 'green', 2);
    await waitFor(async () => same(await readyPods(core), green), 'the green Pods behind web');
    const endpoints = await core.readNamespacedEndpoints({ name: 'web', namespace: 'default' });
    expect(endpoints.subsets?.[0]?.ports).toEqual([{ name: 'http', port: 8080, protocol: 'TCP' }]);

    const shown = await kubectl(kc, ['get', 'endpoints', 'web', '-o', 'json']);
    expect(shown.code, shown.stderr).toBe(0);
    const byKubectl = JSON.parse(shown.stdout) as V1Endpoints;
    expect(byKubectl.subsets?.[0]?.addresses?.map((a) => a.targetRef?.name).sort()).toEqual(green);

    const table = await kubectl(kc, ['get', 'endpoints', 'web']);
    expect(table.stdout).toMatch(/^NAME\s+ENDPOINTS\s+AGE\n/);
    const ips = byKubectl.subsets?.[0]?.addresses?.map((a) => `${a.ip}:8080`).sort();
    expect(table.stdout.split(/\s+/)[4]?.split(',').sort()).toEqual(ips);

    const deleted = await kubectl(kc, ['delete', 'service', 'web']);
    expect(deleted.code, deleted.stderr).toBe(0);
    await waitFor(
      async () => (await readyPods(core)) === undefined,
      'the Endpoints to go with the Service',
    );
  });
});
