import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeContainerVersionStore } from '../../src/kube/container-version-store.js';
import { classifyKubeError, KubeApiError } from '../../src/kube/kube-errors.js';
import { startKubeTestEnv, type KubeTestEnv } from './kube-test-env.js';

let env: KubeTestEnv;
let store: KubeContainerVersionStore;
let ns: string;

beforeAll(async () => {
  env = await startKubeTestEnv();
  store = new KubeContainerVersionStore({ kubeConfig: env.kubeConfig });
  ns = await env.namespace('store-test');
});
afterAll(async () => {
  await env?.stop();
});

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('KubeContainerVersionStore', () => {
  it('gets a ContainerVersion as stored, with the CRD defaults applied', async () => {
    const created = await env.createCv(ns, 'api');
    const got = await store.get({ namespace: ns, name: 'api' });
    expect(got?.metadata).toMatchObject({
      name: 'api',
      namespace: ns,
      uid: created.metadata.uid,
      generation: 1,
    });
    expect(got?.spec).toMatchObject({ imageRepo: 'ghcr.io/acme/api', pollIntervalSeconds: 300 });
  });

  it('answers null for a ContainerVersion that does not exist', async () => {
    expect(await store.get({ namespace: ns, name: 'missing' })).toBeNull();
    expect(await store.get({ namespace: 'no-such-namespace', name: 'api' })).toBeNull();
  });

  it('merge-patches status through the subresource: other fields kept, arrays replaced, generation unchanged', async () => {
    await env.createCv(ns, 'status');
    const key = { namespace: ns, name: 'status' };
    await store.patchStatus(key, {
      currentVersion: 'abc1234',
      failedDigests: [`sha256:${'a'.repeat(64)}`, `sha256:${'b'.repeat(64)}`],
    });
    const patched = await store.patchStatus(key, {
      observedGeneration: 1,
      failedDigests: [`sha256:${'c'.repeat(64)}`],
    });
    expect(patched.status).toMatchObject({
      currentVersion: 'abc1234',
      observedGeneration: 1,
      failedDigests: [`sha256:${'c'.repeat(64)}`],
    });
    const stored = await store.get(key);
    expect(stored?.status?.failedDigests).toEqual([`sha256:${'c'.repeat(64)}`]);
    expect(stored?.metadata.generation).toBe(1);
    expect(stored?.spec).toMatchObject({ tag: 'prod' });
    const statusPatches = env.emulator.requests.filter(
      (r) => r.method === 'PATCH' && r.path.endsWith('/containerversions/status/status'),
    );
    expect(statusPatches.map((r) => r.contentType)).toEqual([
      'application/merge-patch+json',
      'application/merge-patch+json',
    ]);
  });

  it('a patchStatus of a missing ContainerVersion is a permanent not-found error', async () => {
    const error = await rejection(
      store.patchStatus({ namespace: ns, name: 'gone' }, { currentVersion: 'x' }),
    );
    expect(error).toBeInstanceOf(KubeApiError);
    expect(error).toMatchObject({ status: 404, transient: false, notFound: true });
  });

  it.each([
    [409, 'Conflict'],
    [500, 'InternalError'],
  ])('an injected %i on patchStatus is surfaced as transient (%s)', async (status, reason) => {
    await env.createCv(ns, `fault-${status}`);
    env.emulator.faults.inject({
      method: 'PATCH',
      pathPattern: `/containerversions/fault-${status}/status`,
      status,
    });
    const error = await rejection(
      store.patchStatus({ namespace: ns, name: `fault-${status}` }, { currentVersion: 'v1' }),
    );
    expect(classifyKubeError(error)).toMatchObject({ transient: true, status, reason });
    expect((error as Error).message).not.toMatch(/headers|authorization|bearer/i);
    // The fault was used up: the next attempt succeeds.
    const ok = await store.patchStatus(
      { namespace: ns, name: `fault-${status}` },
      { currentVersion: 'v1' },
    );
    expect(ok.status?.currentVersion).toBe('v1');
  });
});
