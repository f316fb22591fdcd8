import { afterEach, describe, expect, it } from 'vitest';
import { startKubeEmulator, type KubeEmulator } from '../index.js';
import { kubectl } from './kubectl.js';

let emulator: KubeEmulator | undefined;
afterEach(async () => {
  await emulator?.stop();
  emulator = undefined;
});

function deployment(name: string, extra: Record<string, unknown> = {}) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default' },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'main', image: 'nginx:1.25' }] },
      },
      ...extra,
    },
  };
}

async function create(kubeconfig: string, object: unknown): Promise<void> {
  const created = await kubectl(kubeconfig, ['create', '--validate=false', '-f', '-'], {
    input: JSON.stringify(object),
  });
  expect(created.stderr).toBe('');
  expect(created.code).toBe(0);
}

describe('kubectl rollout status against the simulated controllers', () => {
  it('finishes for a Deployment after kubectl set image, with every Pod on the new image', async () => {
    emulator = await startKubeEmulator({ timeScale: 10, podReadySeconds: 1 });
    const kc = emulator.kubeconfigPath;
    await create(kc, deployment('web'));
    const first = await kubectl(kc, ['rollout', 'status', 'deployment/web', '--timeout=20s']);
    expect(first.stdout).toContain('deployment "web" successfully rolled out');
    expect(first.code).toBe(0);

    const set = await kubectl(kc, ['set', 'image', 'deployment/web', 'main=nginx:1.26']);
    expect(set.code).toBe(0);
    const second = await kubectl(kc, ['rollout', 'status', 'deployment/web', '--timeout=20s']);
    expect(second.stdout).toContain('Waiting for deployment "web" rollout to finish');
    expect(second.stdout).toContain('deployment "web" successfully rolled out');
    expect(second.code).toBe(0);

    const pods = emulator.store.list('pods', { namespace: 'default', labelSelector: 'app=web' });
    expect(pods.map((p) => p.spec?.containers?.[0]?.image)).toEqual([
      'nginx:1.26',
      'nginx:1.26',
      'nginx:1.26',
    ]);
    const d = emulator.store.get('deployments.apps', 'default', 'web');
    expect(d?.metadata.annotations?.['deployment.kubernetes.io/revision']).toBe('2');
  });

  it('fails with "exceeded its progress deadline" for an image that never becomes ready', async () => {
    emulator = await startKubeEmulator({
      timeScale: 10,
      podReadySeconds: 1,
      neverReady: ['never-ready'],
    });
    const kc = emulator.kubeconfigPath;
    await create(kc, deployment('stuck', { replicas: 2, progressDeadlineSeconds: 20 }));
    expect(
      (await kubectl(kc, ['rollout', 'status', 'deployment/stuck', '--timeout=20s'])).code,
    ).toBe(0);

    await kubectl(kc, ['set', 'image', 'deployment/stuck', 'main=nginx:never-ready']);
    const started = Date.now();
    const status = await kubectl(kc, ['rollout', 'status', 'deployment/stuck', '--timeout=20s']);
    expect(status.stderr).toContain('deployment "stuck" exceeded its progress deadline');
    expect(status.code).toBe(1);
    // 20 emulated seconds at timeScale 10: not before 2 real seconds.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_500);
  });
});
