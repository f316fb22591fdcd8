// What the process benchmarks (rollouts.at-once, push-to-patch) share: one namespace's objects,
// the CRD applied to the emulator, and the teardown of the stack they start.
import { once } from 'node:events';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { kubectl } from '../test/kube-emulator/controllers/kubectl.js';
import type { KubeEmulator } from '../test/kube-emulator/index.js';

const CRD = fileURLToPath(new URL('../infra/kubernetes/crd.yaml', import.meta.url));
export const REDIS_URL = 'redis://127.0.0.1:6379';

/** A stack a benchmark started: the emulator, a registry, cvm processes, their queue prefix. */
export interface BenchStack {
  emulator: KubeEmulator;
  registry: { stop(): Promise<void> };
  processes: ChildProcess[];
  prefix: string;
}

/** Namespace `ns` with Deployment `api` (`replicas`, an old image) and a push-only CV following `repo:tagName`. */
export function namespaceObjects(ns: string, repo: string, tagName: string, replicas: number) {
  const labels = { app: 'api', name: 'api' };
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'api', namespace: ns, labels: { app: 'api' } },
      spec: {
        replicas,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: { containers: [{ name: 'api', image: 'example.com/old/api:1' }] },
        },
      },
    },
    {
      apiVersion: 'cvm.dev/v1',
      kind: 'ContainerVersion',
      metadata: { name: 'api', namespace: ns },
      spec: {
        imageRepo: repo,
        tag: tagName,
        selector: { app: 'api' },
        container: 'api',
        pollIntervalSeconds: 0,
      },
    },
  ];
}

/** Applies cvm's CRD with kubectl and waits until it is established. */
export async function applyCrd(emulator: KubeEmulator): Promise<void> {
  const k = (args: string[]) => kubectl(emulator.kubeconfigPath, args);
  if ((await k(['apply', '-f', CRD])).code !== 0) throw new Error('the CRD was not applied');
  await k(['wait', '--for=condition=established', 'crd/containerversions.cvm.dev']);
}

/** Stops the cvm processes (SIGTERM), the registry, the queues under the prefix and the emulator. */
export async function stopStack(stack: BenchStack): Promise<void> {
  for (const p of stack.processes) {
    if (p.exitCode !== null) continue;
    p.kill('SIGTERM');
    await once(p, 'exit');
  }
  await stack.registry.stop();
  for (const name of ['push-events', 'rollouts', 'notifications']) {
    const queue = new Queue(name, { connection: { url: REDIS_URL }, prefix: stack.prefix });
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
  }
  await stack.emulator.stop();
}
