import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { startKubeEmulator, type KubeEmulator } from './index.js';
import { deploymentManifest } from './testing/fixtures.js';
import { runKubectl, watchKubectl } from './testing/run-kubectl.js';

let emulator: KubeEmulator;

const crd = readFileSync(new URL('../../infra/kubernetes/crd.yaml', import.meta.url), 'utf8');

async function kubectl(args: string[], input?: string): Promise<string> {
  const result = await runKubectl(emulator.kubeconfigPath, args, input);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return result.stdout;
}

/** kubectl's table as rows of cells (columns split on two or more spaces). */
function table(out: string): string[][] {
  return out
    .trimEnd()
    .split('\n')
    .map((line) => line.trim().split(/\s{2,}/));
}

const template = (app: string): Record<string, unknown> => ({
  metadata: { labels: { app } },
  spec: { containers: [{ name: 'main', image: `${app}:1` }] },
});

beforeAll(async () => {
  emulator = await startKubeEmulator({ port: 0, timeScale: 10 });
  await kubectl(['create', '-f', '-'], crd);
  await kubectl(
    ['create', '-f', '-'],
    stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } }),
  );
  const objects = [
    {
      ...deploymentManifest('api'),
      metadata: { name: 'api', namespace: 'shop', labels: { app: 'api' } },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'db', namespace: 'shop' },
      spec: {
        replicas: 1,
        serviceName: 'db',
        selector: { matchLabels: { app: 'db' } },
        template: template('db'),
      },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'agent', namespace: 'shop' },
      spec: { selector: { matchLabels: { app: 'agent' } }, template: template('agent') },
    },
    {
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name: 'nightly', namespace: 'shop' },
      spec: {
        schedule: '0 3 * * *',
        jobTemplate: {
          spec: {
            template: {
              ...template('nightly'),
              spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'nightly:1' }] },
            },
          },
        },
      },
    },
    {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'verify', namespace: 'shop' },
      spec: {
        template: {
          spec: { restartPolicy: 'Never', containers: [{ name: 'check', image: 'check:1' }] },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'settings', namespace: 'shop' },
      data: { a: '1', b: '2' },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'api', namespace: 'shop' },
      spec: { selector: { app: 'api' }, ports: [{ port: 80 }] },
    },
    {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'cvm-leader', namespace: 'shop' },
      spec: { holderIdentity: 'pod-a', leaseDurationSeconds: 15 },
    },
    {
      apiVersion: 'cvm.dev/v1',
      kind: 'ContainerVersion',
      metadata: { name: 'api', namespace: 'shop' },
      spec: {
        imageRepo: 'ghcr.io/acme/api',
        tag: 'prod',
        selector: { app: 'api' },
        container: 'main',
      },
    },
  ];
  await kubectl(['create', '-f', '-'], objects.map((o) => stringify(o)).join('---\n'));
  await kubectl([
    'patch',
    'cv',
    'api',
    '-n',
    'shop',
    '--subresource=status',
    '--type=merge',
    '-p',
    JSON.stringify({
      status: {
        currentVersion: '1a2b3c4',
        conditions: [
          {
            type: 'Ready',
            status: 'True',
            reason: 'RolledOut',
            message: 'ok',
            lastTransitionTime: '2026-01-01T00:00:00Z',
          },
        ],
      },
    }),
  ]);
  // Let the emulated controllers roll everything out (timeScale 10: 2 s real is 20 s emulated).
  await new Promise((r) => setTimeout(r, 2000));
});
afterAll(async () => {
  await emulator.stop();
});

describe('kubectl get prints the columns a real API server prints', () => {
  it('get -w prints the header once, then a row per change', async () => {
    const out = await watchKubectl(
      emulator.kubeconfigPath,
      ['get', 'configmaps', '-n', 'shop', '-w'],
      // The whole row, not only its first bytes: kubectl may flush a line in pieces.
      (text) => /^late\s+\d+\s+\S+\n/m.test(text),
      async () => {
        await new Promise((r) => setTimeout(r, 700));
        await kubectl(
          ['create', '-f', '-'],
          stringify({
            apiVersion: 'v1',
            kind: 'ConfigMap',
            metadata: { name: 'late', namespace: 'shop' },
          }),
        );
      },
    );
    const rows = table(out);
    expect(rows[0]).toEqual(['NAME', 'DATA', 'AGE']);
    expect(rows.filter((r) => r[0] === 'NAME')).toHaveLength(1);
    expect(rows).toContainEqual(['settings', '2', expect.stringMatching(/^\d+s$/)]);
    expect(rows).toContainEqual(['late', '0', expect.stringMatching(/^\d+s$/)]);
  });

  it("--show-labels and --sort-by work from the rows' objects (Metadata, and Object for sorting)", async () => {
    await kubectl(['label', 'configmap', 'settings', '-n', 'shop', 'tier=web']);
    const labelled = table(
      await kubectl(['get', 'configmap', 'settings', '-n', 'shop', '--show-labels']),
    );
    expect(labelled).toEqual([
      ['NAME', 'DATA', 'AGE', 'LABELS'],
      ['settings', '2', expect.stringMatching(/^\d+s$/), 'tier=web'],
    ]);
    const sorted = table(
      await kubectl(['get', 'pods', '-n', 'shop', '--sort-by=.spec.containers[0].image']),
    );
    // images agent:1 < check:1 (the Job's Pod) < db:1 < nginx:1.25 (the Deployment's two Pods)
    expect(sorted.slice(1).map((r) => r[0]?.split('-')[0])).toEqual([
      'agent',
      'verify',
      'db',
      'api',
      'api',
    ]);
    expect(emulator.requests.some((r) => r.query.includes('includeObject=Object'))).toBe(true);
  });

  it('get cv -A: NAMESPACE, NAME and the CRD printer columns', async () => {
    expect(table(await kubectl(['get', 'cv', '-A']))).toEqual([
      ['NAMESPACE', 'NAME', 'REPO', 'TAG', 'VERSION', 'READY', 'AGE'],
      [
        'shop',
        'api',
        'ghcr.io/acme/api',
        'prod',
        '1a2b3c4',
        'True',
        expect.stringMatching(/^\d+s$/),
      ],
    ]);
  });

  it('get deploy -o wide: READY, UP-TO-DATE, AVAILABLE, CONTAINERS, IMAGES, SELECTOR', async () => {
    expect(table(await kubectl(['get', 'deploy', '-n', 'shop', '-o', 'wide']))).toEqual([
      ['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE', 'CONTAINERS', 'IMAGES', 'SELECTOR'],
      ['api', '2/2', '2', '2', expect.stringMatching(/^\d+s$/), 'app', 'nginx:1.25', 'app=api'],
    ]);
  });

  it('get pods: READY, STATUS, RESTARTS; -o wide adds IP, NODE, NOMINATED NODE, READINESS GATES', async () => {
    const pods = table(await kubectl(['get', 'pods', '-n', 'shop', '-l', 'app=api']));
    expect(pods[0]).toEqual(['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE']);
    expect(pods.slice(1).map((r) => r.slice(1, 4))).toEqual([
      ['1/1', 'Running', '0'],
      ['1/1', 'Running', '0'],
    ]);
    const wide = table(await kubectl(['get', 'pods', '-n', 'shop', '-l', 'app=db', '-o', 'wide']));
    expect(wide[0]).toEqual([
      'NAME',
      'READY',
      'STATUS',
      'RESTARTS',
      'AGE',
      'IP',
      'NODE',
      'NOMINATED NODE',
      'READINESS GATES',
    ]);
    expect(wide[1]).toEqual([
      'db-0',
      '1/1',
      'Running',
      '0',
      expect.stringMatching(/^\d+s$/),
      expect.stringMatching(/^10\./),
      'node-1',
      '<none>',
      '<none>',
    ]);
  });

  it('get events: LAST SEEN, TYPE, REASON, OBJECT, MESSAGE', async () => {
    const events = table(await kubectl(['get', 'events', '-n', 'shop']));
    expect(events[0]).toEqual(['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE']);
    expect(events).toContainEqual([
      expect.stringMatching(/^\d+s$/),
      'Normal',
      'ScalingReplicaSet',
      'deployment/api',
      expect.stringMatching(/^Scaled up replica set api-[a-z0-9]+ to 2$/),
    ]);
  });

  it('the other kinds cvm touches: StatefulSet, DaemonSet, CronJob, Job, Service, ConfigMap, Lease, Namespace, Node', async () => {
    const age = expect.stringMatching(/^\d+s$/);
    expect(table(await kubectl(['get', 'sts,ds,cronjob,svc,lease', '-n', 'shop']))).toEqual([
      ['NAME', 'READY', 'AGE'],
      ['statefulset.apps/db', '1/1', age],
      [''],
      ['NAME', 'DESIRED', 'CURRENT', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'NODE SELECTOR', 'AGE'],
      ['daemonset.apps/agent', '1', '1', '1', '1', '1', '<none>', age],
      [''],
      ['NAME', 'SCHEDULE', 'TIMEZONE', 'SUSPEND', 'ACTIVE', 'LAST SCHEDULE', 'AGE'],
      ['cronjob.batch/nightly', '0 3 * * *', '<none>', 'False', '0', '<none>', age],
      [''],
      ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE'],
      ['service/api', 'ClusterIP', expect.stringMatching(/^10\.96\./), '<none>', '80/TCP', age],
      [''],
      ['NAME', 'HOLDER', 'AGE'],
      ['lease.coordination.k8s.io/cvm-leader', 'pod-a', age],
    ]);
    expect(table(await kubectl(['get', 'job/verify', 'configmap/settings', '-n', 'shop']))).toEqual(
      [
        ['NAME', 'STATUS', 'COMPLETIONS', 'DURATION', 'AGE'],
        ['job.batch/verify', 'Complete', '1/1', expect.stringMatching(/^\d+s$/), age],
        [''],
        ['NAME', 'DATA', 'AGE'],
        ['configmap/settings', '2', age],
      ],
    );
    expect(table(await kubectl(['get', 'ns', 'shop']))).toEqual([
      ['NAME', 'STATUS', 'AGE'],
      ['shop', 'Active', age],
    ]);
    expect(table(await kubectl(['get', 'nodes']))).toEqual([
      ['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION'],
      ['node-1', 'Ready', '<none>', age, 'v1.32.0-cvm-emulator'],
    ]);
  });
});
