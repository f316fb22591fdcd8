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
    // Half a real second per Pod, so the rollout outlasts kubectl's start-up.
    emulator = await startKubeEmulator({ timeScale: 10, podReadySeconds: 5 });
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

  it('finishes for a StatefulSet and a DaemonSet after kubectl set image', async () => {
    emulator = await startKubeEmulator({
      timeScale: 10,
      // Half a real second per Pod, so each rollout outlasts kubectl's start-up.
      podReadySeconds: 5,
      nodes: ['node-1', 'node-2'],
    });
    const kc = emulator.kubeconfigPath;
    const template = (app: string) => ({
      metadata: { labels: { app } },
      spec: { containers: [{ name: 'main', image: 'nginx:1.25' }] },
    });
    await create(kc, {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'db', namespace: 'default' },
      spec: {
        replicas: 2,
        serviceName: 'db',
        selector: { matchLabels: { app: 'db' } },
        template: template('db'),
      },
    });
    await create(kc, {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'agent', namespace: 'default' },
      spec: { selector: { matchLabels: { app: 'agent' } }, template: template('agent') },
    });
    for (const target of ['statefulset/db', 'daemonset/agent']) {
      const first = await kubectl(kc, ['rollout', 'status', target, '--timeout=20s']);
      expect(first.code, first.stderr).toBe(0);
      const set = await kubectl(kc, ['set', 'image', target, 'main=nginx:1.26']);
      expect(set.code, set.stderr).toBe(0);
      const second = await kubectl(kc, ['rollout', 'status', target, '--timeout=20s']);
      expect(second.code, second.stderr).toBe(0);
      expect(second.stdout).toContain('Waiting for');
    }
    const sts = await kubectl(kc, ['rollout', 'status', 'statefulset/db', '--timeout=5s']);
    expect(sts.stdout).toContain('partitioned roll out complete: 2 new pods have been updated');
    const ds = await kubectl(kc, ['rollout', 'status', 'daemonset/agent', '--timeout=5s']);
    expect(ds.stdout).toContain('daemon set "agent" successfully rolled out');
    const images = emulator.store
      .list('pods', { namespace: 'default' })
      .map((p) => `${p.metadata.name ?? ''}:${String(p.spec?.containers?.[0]?.image)}`);
    expect(images.filter((i) => i.endsWith('nginx:1.26'))).toHaveLength(4);
    expect(images.filter((i) => i.endsWith('nginx:1.25'))).toHaveLength(0);
  });
});
