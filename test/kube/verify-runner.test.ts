import { BatchV1Api } from '@kubernetes/client-node';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeContainerVersionStore } from '../../src/kube/container-version-store.js';
import { KubeVerifyRunner, verifyJobName } from '../../src/kube/verify-runner.js';
import type { StoredContainerVersion } from '../../src/workers/ports.js';
import { startKubeTestEnv, type KubeTestEnv } from './kube-test-env.js';

let env: KubeTestEnv;
let slow: KubeTestEnv;
let ns: string;
const logger = pino({ level: 'silent' });

beforeAll(async () => {
  env = await startKubeTestEnv({ timeScale: 20, neverReady: ['failing-check'] });
  // Pods here never finish: every Job runs into the verify timeout.
  slow = await startKubeTestEnv({ podReadySeconds: 100_000 });
  ns = await env.namespace('verify-test');
  await slow.namespace('verify-test');
});
afterAll(async () => {
  await Promise.all([env?.stop(), slow?.stop()]);
});

async function cv(on: KubeTestEnv, name: string): Promise<StoredContainerVersion> {
  await on.createCv(ns, name);
  const stored = await new KubeContainerVersionStore({ kubeConfig: on.kubeConfig }).get({
    namespace: ns,
    name,
  });
  if (!stored) throw new Error('CV missing');
  return stored;
}

const runner = (on: KubeTestEnv) =>
  new KubeVerifyRunner({
    kubeConfig: on.kubeConfig,
    logger,
    initialPollIntervalMs: 50,
    maxPollIntervalMs: 200,
  });

const jobsLeft = async (on: KubeTestEnv, cvName: string) => {
  const batch = on.kubeConfig.makeApiClient(BatchV1Api);
  const jobs = await batch.listNamespacedJob({
    namespace: ns,
    labelSelector: `cvm.dev/verify-of=${cvName}`,
  });
  const pods = await on.core.listNamespacedPod({
    namespace: ns,
    labelSelector: `cvm.dev/verify-of=${cvName}`,
  });
  return jobs.items.length + pods.items.length;
};

const check = (image: string, timeoutSeconds = 30) => ({
  name: 'smoke',
  image,
  command: ['/bin/sh', '-c'],
  args: ['curl -fsS http://api/healthz'],
  timeoutSeconds,
});

describe('KubeVerifyRunner', () => {
  it('runs a Job that completes, with the env, limits and labels, then deletes it', async () => {
    const owner = await cv(env, 'ok');
    const environment = { CVM_IMAGE: 'ghcr.io/acme/api:v2@sha256:abc', CVM_VERSION: 'v2' };
    const result = await runner(env).run(owner, check('ghcr.io/acme/smoke:1'), environment);
    expect(result).toEqual({ succeeded: true, message: 'Complete' });

    const created = env.emulator.requests.find(
      (r) =>
        r.method === 'POST' &&
        r.path === `/apis/batch/v1/namespaces/${ns}/jobs` &&
        r.status === 201,
    );
    const job = JSON.parse(created?.body ?? '{}');
    expect(job.metadata.name).toBe(
      verifyJobName(owner, check('ghcr.io/acme/smoke:1'), environment),
    );
    expect(job.metadata.name).toMatch(/^ok-verify-smoke-[0-9a-f]{8}$/);
    expect(job.metadata.labels).toEqual({
      'cvm.dev/verify-of': 'ok',
      'cvm.dev/verify-check': 'smoke',
    });
    expect(job.metadata.ownerReferences[0]).toMatchObject({
      kind: 'ContainerVersion',
      uid: owner.metadata.uid,
    });
    expect(job.spec).toMatchObject({
      backoffLimit: 0,
      activeDeadlineSeconds: 30,
      ttlSecondsAfterFinished: 600,
    });
    expect(job.spec.template.spec.restartPolicy).toBe('Never');
    expect(job.spec.template.spec.containers[0]).toMatchObject({
      image: 'ghcr.io/acme/smoke:1',
      command: ['/bin/sh', '-c'],
      args: ['curl -fsS http://api/healthz'],
      env: [
        { name: 'CVM_IMAGE', value: 'ghcr.io/acme/api:v2@sha256:abc' },
        { name: 'CVM_VERSION', value: 'v2' },
      ],
    });
    const deleted = env.emulator.requests.find(
      (r) =>
        r.method === 'DELETE' &&
        r.path === `/apis/batch/v1/namespaces/${ns}/jobs/${job.metadata.name}`,
    );
    expect(deleted?.body + (deleted?.query ?? '')).toContain('Background');
    expect(await jobsLeft(env, 'ok')).toBe(0);
  });

  it('reports a failed Job with the reason of its Failed condition, and cleans up', async () => {
    const owner = await cv(env, 'bad');
    const result = await runner(env).run(owner, check('ghcr.io/acme/smoke:failing-check'), {});
    expect(result).toEqual({
      succeeded: false,
      message: 'BackoffLimitExceeded: Job has reached the specified backoff limit',
    });
    expect(await jobsLeft(env, 'bad')).toBe(0);
  });

  it('a retried verification adopts the Job an earlier (crashed) attempt started', async () => {
    const owner = await cv(env, 'retried');
    const environment = { CVM_DIGEST: 'sha256:1' };
    const name = verifyJobName(owner, check('ghcr.io/acme/smoke:1'), environment);
    const labels = { 'cvm.dev/verify-of': 'retried', 'cvm.dev/verify-check': 'smoke' };
    await env.kubeConfig.makeApiClient(BatchV1Api).createNamespacedJob({
      namespace: ns,
      body: {
        metadata: { name, labels },
        spec: {
          backoffLimit: 0,
          template: {
            metadata: { labels },
            spec: {
              restartPolicy: 'Never',
              containers: [{ name: 'verify', image: 'ghcr.io/acme/smoke:1' }],
            },
          },
        },
      },
    });
    const result = await runner(env).run(owner, check('ghcr.io/acme/smoke:1'), environment);
    expect(result).toEqual({ succeeded: true, message: 'Complete' });
    const posts = env.emulator.requests.filter(
      (r) => r.method === 'POST' && r.path.endsWith('/jobs') && r.body.includes(`"${name}"`),
    );
    expect(posts.map((p) => p.status)).toEqual([201, 409]);
    expect(await jobsLeft(env, 'retried')).toBe(0);
  });

  it('fails a check that does not finish within timeoutSeconds, and deletes its Job', async () => {
    const owner = await cv(slow, 'hangs');
    const started = Date.now();
    const result = await runner(slow).run(owner, check('ghcr.io/acme/smoke:1', 1), {});
    expect(result).toEqual({
      succeeded: false,
      message: 'verify check smoke did not finish within 1s',
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await jobsLeft(slow, 'hangs')).toBe(0);
  });

  it('a Job that cannot be created is a thrown KubeApiError', async () => {
    const owner = await cv(env, 'nocreate');
    env.emulator.faults.inject({
      method: 'POST',
      pathPattern: `/namespaces/${ns}/jobs`,
      status: 503,
    });
    await expect(runner(env).run(owner, check('ghcr.io/acme/smoke:1'), {})).rejects.toMatchObject({
      status: 503,
      transient: true,
    });
  });
});
