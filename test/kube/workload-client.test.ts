import { AppsV1Api, BatchV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidLabelSelectorError } from '../../src/kube/label-selector.js';
import { KubeWorkloadClient } from '../../src/kube/workload-client.js';
import { startKubeTestEnv, type KubeTestEnv } from './kube-test-env.js';

let env: KubeTestEnv;
let client: KubeWorkloadClient;
let ns: string;

const podTemplate = (labels: Record<string, string>) => ({
  metadata: { labels },
  spec: {
    initContainers: [{ name: 'migrate', image: 'ghcr.io/acme/api:old' }],
    containers: [
      { name: 'app', image: 'ghcr.io/acme/api:old', env: [{ name: 'MODE', value: 'prod' }] },
      { name: 'sidecar', image: 'envoyproxy/envoy:v1.30' },
    ],
  },
});

async function createWorkloads(name: string, labels: Record<string, string>): Promise<void> {
  const apps = env.kubeConfig.makeApiClient(AppsV1Api);
  const batch = env.kubeConfig.makeApiClient(BatchV1Api);
  const meta = { name, labels: { ...labels, team: 'shop' } };
  const selector = { matchLabels: labels };
  await apps.createNamespacedDeployment({
    namespace: ns,
    body: { metadata: meta, spec: { replicas: 2, selector, template: podTemplate(labels) } },
  });
  await apps.createNamespacedStatefulSet({
    namespace: ns,
    body: { metadata: meta, spec: { serviceName: name, selector, template: podTemplate(labels) } },
  });
  await apps.createNamespacedDaemonSet({
    namespace: ns,
    body: { metadata: meta, spec: { selector, template: podTemplate(labels) } },
  });
  await batch.createNamespacedCronJob({
    namespace: ns,
    body: {
      metadata: meta,
      spec: {
        schedule: '*/5 * * * *',
        jobTemplate: {
          spec: {
            template: {
              ...podTemplate(labels),
              spec: { ...podTemplate(labels).spec, restartPolicy: 'Never' },
            },
          },
        },
      },
    },
  });
}

beforeAll(async () => {
  env = await startKubeTestEnv();
  client = new KubeWorkloadClient({ kubeConfig: env.kubeConfig });
  ns = await env.namespace('workloads-test');
  await createWorkloads('web', { app: 'web', 'cvm.dev/part-of': 'shop' });
  await createWorkloads('other', { app: 'other', 'cvm.dev/part-of': 'shop' });
});
afterAll(async () => {
  await env?.stop();
});

describe('KubeWorkloadClient', () => {
  it('lists the four kinds whose labels match every entry of the selector', async () => {
    const listed = await client.list(ns, { app: 'web', 'cvm.dev/part-of': 'shop' });
    expect(listed.map((w) => `${w.kind}/${w.name}`)).toEqual([
      'Deployment/web',
      'StatefulSet/web',
      'DaemonSet/web',
      'CronJob/web',
    ]);
    for (const workload of listed) {
      expect(workload.namespace).toBe(ns);
      expect(workload.uid).not.toBe('');
      expect(workload.containers.map((c) => c.name)).toEqual(['app', 'sidecar']);
      expect(workload.initContainers).toEqual([{ name: 'migrate', image: 'ghcr.io/acme/api:old' }]);
      expect(typeof workload.object.metadata.creationTimestamp).toBe('string');
    }
    expect(await client.list(ns, { 'cvm.dev/part-of': 'shop' })).toHaveLength(8);
    expect(await client.list(ns, { app: 'nobody' })).toEqual([]);
    expect(await client.list('workloads-elsewhere', { app: 'web' })).toEqual([]);
  });

  it('refuses a selector it cannot write instead of widening it', async () => {
    await expect(client.list(ns, {})).rejects.toBeInstanceOf(InvalidLabelSelectorError);
    await expect(client.list(ns, { app: 'web,app!=x' })).rejects.toBeInstanceOf(
      InvalidLabelSelectorError,
    );
    await expect(client.list(ns, { 'app in (a)': 'x' })).rejects.toBeInstanceOf(
      InvalidLabelSelectorError,
    );
  });

  it('gets a workload by kind and name, and null when it does not exist', async () => {
    const cron = await client.get('CronJob', { namespace: ns, name: 'web' });
    expect(cron?.containers[0]).toEqual({ name: 'app', image: 'ghcr.io/acme/api:old' });
    expect(await client.get('Deployment', { namespace: ns, name: 'missing' })).toBeNull();
  });

  it.each(['Deployment', 'StatefulSet', 'DaemonSet', 'CronJob'] as const)(
    'a strategic merge patch of a %s changes only the named container image',
    async (kind) => {
      const key = { namespace: ns, name: 'web' };
      const before = await client.get(kind, key);
      const image = `ghcr.io/acme/api:v2@sha256:${'d'.repeat(64)}`;
      const template = { spec: { containers: [{ name: 'app', image }] } };
      const patch =
        kind === 'CronJob'
          ? { spec: { jobTemplate: { spec: { template } } } }
          : { metadata: { annotations: { 'cvm.dev/version': 'v2' } }, spec: { template } };
      const patched = await client.patch(kind, key, patch);
      expect(patched.containers).toEqual([
        { name: 'app', image },
        { name: 'sidecar', image: 'envoyproxy/envoy:v1.30' },
      ]);
      expect(patched.initContainers).toEqual(before?.initContainers);
      const podSpec = (o: typeof patched.object) =>
        kind === 'CronJob' ? o.spec.jobTemplate.spec.template.spec : o.spec.template.spec;
      expect(podSpec(patched.object).containers[0].env).toEqual([{ name: 'MODE', value: 'prod' }]);
      expect(patched.object.metadata.labels).toEqual(before?.object.metadata.labels);
      if (kind !== 'CronJob') expect(patched.annotations['cvm.dev/version']).toBe('v2');
      if (kind === 'Deployment') expect(patched.object.spec.replicas).toBe(2);
      if (kind === 'CronJob') expect(patched.object.spec.schedule).toBe('*/5 * * * *');
      const stored = await client.get(kind, key);
      expect(stored?.containers[0]?.image).toBe(image);
      const last = env.emulator.requests.filter((r) => r.method === 'PATCH').at(-1);
      expect(last?.contentType).toBe('application/strategic-merge-patch+json');
      // The workload selected by the other label is untouched.
      const other = await client.get(kind, { namespace: ns, name: 'other' });
      expect(other?.containers[0]?.image).toBe('ghcr.io/acme/api:old');
    },
  );

  it('a patch of a missing workload is a permanent not-found error', async () => {
    await expect(
      client.patch('DaemonSet', { namespace: ns, name: 'missing' }, { metadata: {} }),
    ).rejects.toMatchObject({ status: 404, transient: false });
  });
});
