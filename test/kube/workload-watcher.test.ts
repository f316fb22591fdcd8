import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workloadRows } from '../../src/http/workload-rows.js';
import { KubeWorkloadClient } from '../../src/kube/workload-client.js';
import { KubeWorkloadWatcher } from '../../src/kube/workload-watcher.js';
import type { StoredContainerVersion } from '../../src/workers/ports.js';
import { rolloutStatus } from '../../src/workers/rollout-status.js';
import { waitFor } from '../support/wait-for.js';
import { startKubeTestEnv, type KubeTestEnv } from './kube-test-env.js';

const logger = pino({ level: 'silent' });
const NS = 'slim';
const DIGEST = `sha256:${'c'.repeat(64)}`;
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

let env: KubeTestEnv;
let watcher: KubeWorkloadWatcher;

/** A pod template with much that cvm never reads (env, resources, probes, volumes). */
const template = (app: string) => ({
  metadata: { labels: { app }, annotations: { 'prometheus.io/scrape': 'true' } },
  spec: {
    initContainers: [{ name: 'init', image: 'example.com/init:1', command: ['sh', '-c', 'true'] }],
    containers: [
      {
        name: 'api',
        image: `example.com/team/api:v1@${DIGEST}`,
        env: Array.from({ length: 20 }, (_, i) => ({ name: `VAR_${i}`, value: 'x'.repeat(100) })),
        resources: { limits: { cpu: '1', memory: '1Gi' } },
        readinessProbe: { httpGet: { path: '/healthz', port: 8080 } },
      },
      { name: 'sidecar', image: 'example.com/sidecar:2' },
    ],
    volumes: [{ name: 'data', emptyDir: {} }],
  },
});

const metadata = (name: string, app: string) => ({
  name,
  namespace: NS,
  labels: { app, team: 'shop' },
  annotations: { [LAST_APPLIED]: JSON.stringify({ big: 'y'.repeat(5_000) }), owner: 'shop' },
  managedFields: [{ manager: 'kubectl', operation: 'Apply', fieldsV1: { 'f:spec': {} } }],
});

beforeAll(async () => {
  env = await startKubeTestEnv({ podReadySeconds: 0 });
  await env.namespace(NS);
  const { store } = env.emulator;
  store.create('deployments.apps', {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: metadata('api', 'api'),
    spec: { replicas: 2, selector: { matchLabels: { app: 'api' } }, template: template('api') },
  });
  store.create('statefulsets.apps', {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: metadata('db', 'db'),
    spec: {
      replicas: 1,
      serviceName: 'db',
      selector: { matchLabels: { app: 'db' } },
      template: template('db'),
    },
  });
  store.create('daemonsets.apps', {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: metadata('agent', 'agent'),
    spec: { selector: { matchLabels: { app: 'agent' } }, template: template('agent') },
  });
  store.create('cronjobs.batch', {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: metadata('report', 'report'),
    spec: { schedule: '0 * * * *', jobTemplate: { spec: { template: template('report') } } },
  });
  watcher = new KubeWorkloadWatcher({ kubeConfig: env.kubeConfig, logger });
  await watcher.start();
  await watcher.synced();
  // The controllers have written the Deployment's status (its pods are ready at once).
  await waitFor(
    () =>
      watcher.workloads(NS).length === 4 &&
      watcher
        .workloads(NS)
        .some((w) => w.kind === 'Deployment' && w.object.status?.readyReplicas === 2),
    'the workloads and their status in the cache',
  );
}, 60_000);

afterAll(async () => {
  await watcher?.stop();
  await env?.stop();
});

const cv = (name: string, app: string): StoredContainerVersion => ({
  apiVersion: 'cvm.dev/v1',
  kind: 'ContainerVersion',
  metadata: { name, namespace: NS, uid: `uid-${name}`, generation: 1, resourceVersion: '1' },
  spec: { imageRepo: 'example.com/team/api', tag: 'prod', selector: { app }, container: 'api' },
  status: { observedGeneration: 1, currentDigest: DIGEST },
});

describe('KubeWorkloadWatcher cache (emulator over HTTP)', () => {
  it('keeps no managedFields, no last-applied annotation and of the pod template only labels and container names and images', () => {
    for (const w of watcher.workloads(NS)) {
      const json = JSON.stringify(w.object);
      expect(json).not.toContain(LAST_APPLIED);
      expect(json).not.toContain('managedFields');
      expect(json).not.toContain('VAR_0');
      expect(json).not.toContain('readinessProbe');
      expect(w.object.metadata).toMatchObject({
        name: w.name,
        namespace: NS,
        labels: { team: 'shop' },
        annotations: { owner: 'shop' },
      });
      expect(w.containers).toEqual([
        { name: 'api', image: `example.com/team/api:v1@${DIGEST}` },
        { name: 'sidecar', image: 'example.com/sidecar:2' },
      ]);
      expect(w.initContainers).toEqual([{ name: 'init', image: 'example.com/init:1' }]);
    }
  });

  it('the REST API rows and rollout progress read from it are those of the full objects', async () => {
    const client = new KubeWorkloadClient({ kubeConfig: env.kubeConfig });
    const cvs = ['api', 'db', 'agent', 'report'].map((app) => cv(`cv-${app}`, app));
    const full = await Promise.all(
      cvs.map((c) => client.list(NS, { app: c.metadata.name.slice(3) })),
    );
    const fullCache = { workloads: () => full.flat() };
    expect(workloadRows(cvs, watcher)).toEqual(workloadRows(cvs, fullCache));
    expect(workloadRows(cvs, watcher)).toHaveLength(4);
    for (const w of full.flat()) {
      // What the cache dropped was there.
      expect(JSON.stringify(w.object)).toContain(LAST_APPLIED);
      expect(JSON.stringify(w.object)).toContain('managedFields');
      expect(JSON.stringify(w.object)).toContain('VAR_0');
      const slim = watcher.workloads(NS).find((s) => s.kind === w.kind && s.name === w.name)!;
      expect(rolloutStatus(slim)).toEqual(rolloutStatus(w));
    }
  });
});
