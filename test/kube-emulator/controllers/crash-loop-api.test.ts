import { KubeConfig, Watch, type V1Pod } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../support/wait-for.js';
import { startKubeEmulator, type KubeEmulator } from '../index.js';
import { kubectl } from './kubectl.js';

let emulator: KubeEmulator | undefined;
let watching: AbortController | undefined;
afterEach(async () => {
  watching?.abort();
  watching = undefined;
  await emulator?.stop();
  emulator = undefined;
});

async function createDeployment(kubeconfig: string, name: string, image: string): Promise<void> {
  const created = await kubectl(kubeconfig, ['create', 'deployment', name, `--image=${image}`]);
  expect(created.code, created.stderr).toBe(0);
}

interface Seen {
  /** Ready condition after each watch event, repeats collapsed. */
  ready: string[];
  restartCount: number;
}

/** Watches Pods over HTTP and records, per Deployment (the `app` label), what its Pod went through. */
async function watchPods(config: KubeConfig, seen: Map<string, Seen>): Promise<AbortController> {
  return new Watch(config).watch(
    '/api/v1/namespaces/default/pods',
    {},
    (_type, pod: V1Pod) => {
      const app = pod.metadata?.labels?.app ?? '';
      const entry = seen.get(app) ?? { ready: [], restartCount: 0 };
      seen.set(app, entry);
      const ready = pod.status?.conditions?.find((c) => c.type === 'Ready')?.status;
      if (ready && ready !== entry.ready.at(-1)) entry.ready.push(ready);
      const restarts = pod.status?.containerStatuses?.[0]?.restartCount ?? 0;
      entry.restartCount = Math.max(entry.restartCount, restarts);
    },
    () => undefined,
  );
}

const flipped = (s: Seen | undefined) =>
  (s?.restartCount ?? 0) >= 2 && s?.ready.slice(0, 4).join() === 'True,False,True,False';

describe('crash-looping images through the API', () => {
  it('restart with restartCount growing and Ready flipping; other images keep restartCount 0', async () => {
    emulator = await startKubeEmulator({
      timeScale: 20,
      podReadySeconds: 1,
      crashAfterSeconds: 2,
      crashing: ['crashy'],
    });
    const kc = emulator.kubeconfigPath;
    const config = new KubeConfig();
    config.loadFromFile(kc);
    const seen = new Map<string, Seen>();
    watching = await watchPods(config, seen);
    await createDeployment(kc, 'crash', 'example.invalid/crashy:1');
    await createDeployment(kc, 'steady', 'nginx:1.25');
    await waitFor(() => flipped(seen.get('crash')), 'the crashy Pod to restart twice');

    const table = await kubectl(kc, ['get', 'pods', '-l', 'app=crash', '--no-headers']);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/\s\d+ \(\d+s ago\)\s/);

    const steady = await kubectl(kc, ['get', 'pods', '-l', 'app=steady', '-o', 'json']);
    const pods = (JSON.parse(steady.stdout) as { items: V1Pod[] }).items;
    expect(pods).toHaveLength(1);
    expect(pods[0]?.status?.containerStatuses?.[0]).toMatchObject({ ready: true, restartCount: 0 });
    await waitFor(() => seen.get('steady')?.ready.includes('True'), 'the steady Pod ready');
    expect(seen.get('steady')).toEqual({ ready: ['True'], restartCount: 0 });

    emulator.setCrashing(['late']);
    await createDeployment(kc, 'late', 'example.invalid/late:1');
    await waitFor(() => flipped(seen.get('late')), 'a Pod of an image made crashing at runtime');
  });
});
