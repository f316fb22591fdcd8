import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CV_GROUP, CV_PLURAL, CV_VERSION } from '../../src/api/container-version.js';
import {
  ContainerVersionInformer,
  type ContainerVersionChange,
} from '../../src/kube/container-version-informer.js';
import { waitFor } from '../support/wait-for.js';
import { startKubeTestEnv, type KubeTestEnv } from './kube-test-env.js';

let env: KubeTestEnv;
const informers: ContainerVersionInformer[] = [];
const logger = pino({ level: 'silent' });
const CV_PATH = `/apis/${CV_GROUP}/${CV_VERSION}/${CV_PLURAL}`;

beforeAll(async () => {
  env = await startKubeTestEnv();
});
afterEach(async () => {
  env.emulator.faults.clear();
  await Promise.all(informers.splice(0).map((i) => i.stop()));
});
afterAll(async () => {
  await env?.stop();
});

function informer(
  options: Partial<ConstructorParameters<typeof ContainerVersionInformer>[0]> = {},
) {
  const created = new ContainerVersionInformer({
    kubeConfig: env.kubeConfig,
    logger,
    initialBackoffMs: 50,
    ...options,
  });
  informers.push(created);
  return created;
}

const isList = (r: { method: string; path: string; query: string }) =>
  r.method === 'GET' && r.path === CV_PATH && !r.query.includes('watch=');

const names = (list: { namespace: string; name: string }[]) =>
  list.map((f) => `${f.namespace}/${f.name}`).sort();

function cvPatch(namespace: string, name: string, spec: Record<string, unknown>) {
  return env.custom.patchNamespacedCustomObject({
    group: CV_GROUP,
    version: CV_VERSION,
    plural: CV_PLURAL,
    namespace,
    name,
    body: [
      ...Object.entries(spec).map(([k, v]) => ({ op: 'replace', path: `/spec/${k}`, value: v })),
    ],
  });
}

const deleteCv = (namespace: string, name: string) =>
  env.custom.deleteNamespacedCustomObject({
    group: CV_GROUP,
    version: CV_VERSION,
    plural: CV_PLURAL,
    namespace,
    name,
  });

const watchRequests = () =>
  env.emulator.requests.filter((r) => r.path === CV_PATH && /(^|&)watch=true/.test(r.query));
const listRequests = () =>
  env.emulator.requests.filter((r) => r.path === CV_PATH && !/(^|&)watch=/.test(r.query));

describe('ContainerVersionInformer', () => {
  it('indexes every namespace by normalized image and follows add, update and delete', async () => {
    const a = await env.namespace('informer-a');
    const b = await env.namespace('informer-b');
    await env.createCv(a, 'nginx', { imageRepo: 'nginx', tag: 'stable' });
    await env.createCv(b, 'nginx', { imageRepo: 'docker.io/library/nginx', tag: 'stable' });
    await env.createCv(a, 'other-tag', { imageRepo: 'nginx', tag: 'mainline' });
    const index = informer();
    const changes: ContainerVersionChange[] = [];
    index.onChange((c) => changes.push(c));
    await index.start();
    await index.synced();
    expect(names(index.following('docker.io', 'library/nginx', 'stable'))).toEqual([
      'informer-a/nginx',
      'informer-b/nginx',
    ]);
    expect(index.following('docker.io', 'library/nginx', 'stable')[0]?.uid).toMatch(/.+/);
    expect(names(index.following('docker.io', 'library/nginx', 'mainline'))).toEqual([
      'informer-a/other-tag',
    ]);
    expect(changes.filter((c) => c.type === 'add').map((c) => c.object.metadata.name)).toHaveLength(
      3,
    );

    await env.createCv(b, 'api', { imageRepo: 'GHCR.io/acme/api', tag: 'prod' });
    await waitFor(() => index.following('ghcr.io', 'acme/api', 'prod').length === 1, 'the add');

    await cvPatch(a, 'nginx', { tag: 'mainline' });
    await waitFor(
      () => index.following('docker.io', 'library/nginx', 'mainline').length === 2,
      'the update',
    );
    expect(names(index.following('docker.io', 'library/nginx', 'stable'))).toEqual([
      'informer-b/nginx',
    ]);

    await deleteCv(b, 'nginx');
    await waitFor(
      () => index.following('docker.io', 'library/nginx', 'stable').length === 0,
      'the delete',
    );
    expect(
      changes.map((c) => `${c.type} ${c.object.metadata.namespace}/${c.object.metadata.name}`),
    ).toEqual(
      expect.arrayContaining([
        'add informer-b/api',
        'update informer-a/nginx',
        'delete informer-b/nginx',
      ]),
    );
    expect(
      index
        .list()
        .map((cv) => cv.metadata.name)
        .sort(),
    ).toEqual(['api', 'nginx', 'other-tag']);
  });

  it('keeps neither managedFields nor the last-applied annotation, listed or watched; the rest as it is', async () => {
    const ns = await env.namespace('informer-slim');
    const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
    const create = (name: string) =>
      env.emulator.store.create('containerversions.cvm.dev', {
        apiVersion: `${CV_GROUP}/${CV_VERSION}`,
        kind: 'ContainerVersion',
        metadata: {
          name,
          namespace: ns,
          annotations: { [LAST_APPLIED]: '{"spec":{}}', 'cvm.dev/request': 'sync@1' },
          managedFields: [{ manager: 'kubectl', operation: 'Apply' }],
        },
        spec: {
          imageRepo: 'ghcr.io/acme/slim',
          tag: 'prod',
          selector: { app: name },
          container: 'app',
        },
      });
    create('listed');
    const index = informer();
    await index.start();
    await index.synced();
    create('watched');
    await waitFor(() => index.get(ns, 'watched') !== undefined, 'the watched CV');
    for (const name of ['listed', 'watched']) {
      const cv = index.get(ns, name)!;
      expect(cv.metadata.annotations).toEqual({ 'cvm.dev/request': 'sync@1' });
      expect(cv.metadata).not.toHaveProperty('managedFields');
      expect(cv.spec).toMatchObject({ imageRepo: 'ghcr.io/acme/slim', selector: { app: name } });
    }
    // The API server has them.
    const stored = env.emulator.store.get('containerversions.cvm.dev', ns, 'listed')!;
    expect(stored.metadata.annotations).toHaveProperty([LAST_APPLIED]);
    expect(stored.metadata).toHaveProperty('managedFields');
  });

  it("lists in pages of pageSize (limit and continue), from the first page's snapshot, and then watches", async () => {
    const ns = await env.namespace('informer-pages');
    const cvs = (from: number, to: number) =>
      Array.from({ length: to - from }, (_, i) => `cv-${String(from + i).padStart(3, '0')}`);
    const make = (name: string) =>
      env.emulator.store.create('containerversions.cvm.dev', {
        apiVersion: `${CV_GROUP}/${CV_VERSION}`,
        kind: 'ContainerVersion',
        metadata: { name, namespace: ns },
        spec: {
          imageRepo: 'ghcr.io/acme/pages',
          tag: 'prod',
          selector: { app: name },
          container: 'app',
        },
      });
    for (const name of cvs(0, 250)) make(name);
    const listsBefore = env.emulator.requests.filter(isList).length;
    // A CV created while the pages are read, in the part already listed: the watch brings it.
    const index = informer({ pageSize: 100 });
    const started = index.start();
    await waitFor(
      () => env.emulator.requests.filter(isList).length > listsBefore,
      'the first page',
    );
    make('cv-000a');
    await started;
    await index.synced();
    const lists = env.emulator.requests.filter(isList).slice(listsBefore);
    expect(lists.map((r) => new URLSearchParams(r.query).get('limit'))).toEqual([
      '100',
      '100',
      '100',
    ]);
    expect(lists.slice(1).every((r) => new URLSearchParams(r.query).has('continue'))).toBe(true);
    await waitFor(() => index.get(ns, 'cv-000a') !== undefined, 'the CV made during the list');
    make('cv-999');
    await waitFor(() => index.get(ns, 'cv-999') !== undefined, 'a CV made after the list');
    const mine = index.list().filter((cv) => cv.metadata.namespace === ns);
    expect(mine.map((cv) => cv.metadata.name).sort()).toEqual(
      [...cvs(0, 250), 'cv-000a', 'cv-999'].sort(),
    );
    expect(mine.find((cv) => cv.metadata.name === 'cv-042')?.spec).toMatchObject({
      selector: { app: 'cv-042' },
    });
  });

  it('keeps the spec object it has across status writes (same generation), and takes a changed spec', async () => {
    const ns = await env.namespace('informer-spec');
    await env.createCv(ns, 'app', { imageRepo: 'ghcr.io/acme/spec', tag: 'prod' });
    const index = informer();
    await index.start();
    await index.synced();
    const first = index.get(ns, 'app')!;
    const stored = env.emulator.store.get('containerversions.cvm.dev', ns, 'app')!;
    env.emulator.store.updateStatus('containerversions.cvm.dev', {
      ...stored,
      status: { currentDigest: `sha256:${'d'.repeat(64)}` },
    });
    await waitFor(
      () => index.get(ns, 'app')?.status?.currentDigest !== undefined,
      'the status write',
    );
    const afterStatus = index.get(ns, 'app')!;
    expect(afterStatus).not.toBe(first);
    expect(afterStatus.metadata.resourceVersion).not.toBe(first.metadata.resourceVersion);
    expect(afterStatus.spec).toBe(first.spec);
    await cvPatch(ns, 'app', { tag: 'canary' });
    await waitFor(
      () => (index.get(ns, 'app')?.spec as { tag?: string } | undefined)?.tag === 'canary',
      'the spec change',
    );
    const afterSpec = index.get(ns, 'app')!;
    expect(afterSpec.spec).not.toBe(first.spec);
    expect(afterSpec.metadata.generation).toBe((first.metadata.generation ?? 0) + 1);
    expect(index.following('ghcr.io', 'acme/spec', 'canary')).toHaveLength(1);
    expect(index.following('ghcr.io', 'acme/spec', 'prod')).toEqual([]);
  });

  it('keeps a CV with an invalid imageRepo out of the index without failing', async () => {
    const ns = await env.namespace('informer-invalid');
    const index = informer();
    await index.start();
    await index.synced();
    // The CRD pattern keeps most bad names out; this one passes it (read as a path component)
    // but not the parser (a first component with a "." must be a valid host).
    await env.createCv(ns, 'bad', { imageRepo: 'my_host.local/app', tag: 'prod' });
    await env.createCv(ns, 'good', { imageRepo: 'ghcr.io/acme/good', tag: 'prod' });
    await waitFor(() => index.following('ghcr.io', 'acme/good', 'prod').length === 1, 'good CV');
    expect(index.get(ns, 'bad')?.metadata.name).toBe('bad');
    expect(index.following('docker.io', 'my_host.local/app', 'prod')).toEqual([]);
    expect(index.following('my_host.local', 'app', 'prod')).toEqual([]);
  });

  it('restarts after an injected 500 on the watch and catches up', async () => {
    const ns = await env.namespace('informer-restart');
    const index = informer();
    await index.start();
    await index.synced();
    const failedBefore = watchRequests().filter((r) => r.status === 500).length;
    env.emulator.faults.inject({
      method: 'GET',
      pathPattern: /containerversions\?watch=true/,
      status: 500,
      times: 2,
    });
    env.emulator.closeWatches();
    await waitFor(
      () => watchRequests().filter((r) => r.status === 500).length === failedBefore + 2,
      'two failed watches',
    );
    await env.createCv(ns, 'after-restart', { imageRepo: 'quay.io/acme/x', tag: 'v1' });
    await waitFor(
      () => index.following('quay.io', 'acme/x', 'v1').length === 1,
      'the CV created after the restart',
    );
  });

  it('survives a forced 410: re-lists and reports what changed while it was away', async () => {
    const ns = await env.namespace('informer-gone');
    await env.createCv(ns, 'stays', { imageRepo: 'quay.io/acme/stays', tag: 'v1' });
    await env.createCv(ns, 'goes', { imageRepo: 'quay.io/acme/goes', tag: 'v1' });
    // A long first backoff: the changes below happen while the watch is down.
    const index = informer({ initialBackoffMs: 1500, random: () => 0.99 });
    const changes: ContainerVersionChange[] = [];
    index.onChange((c) => changes.push(c));
    await index.start();
    await index.synced();
    changes.length = 0;
    const listsBefore = listRequests().length;
    env.emulator.faults.inject({
      method: 'GET',
      pathPattern: /containerversions\?watch=true/,
      status: 500,
    });
    env.emulator.closeWatches();
    await waitFor(() => watchRequests().some((r) => r.status === 500), 'the failed watch');
    await deleteCv(ns, 'goes');
    await env.createCv(ns, 'new', { imageRepo: 'quay.io/acme/new', tag: 'v1' });
    env.emulator.compact();
    await waitFor(
      () =>
        index.following('quay.io', 'acme/new', 'v1').length === 1 &&
        index.following('quay.io', 'acme/goes', 'v1').length === 0,
      'the re-listed state',
    );
    expect(listRequests().length).toBeGreaterThan(listsBefore);
    expect(index.following('quay.io', 'acme/stays', 'v1')).toHaveLength(1);
    expect(changes.map((c) => `${c.type} ${c.object.metadata.name}`).sort()).toEqual([
      'add new',
      'delete goes',
    ]);
  });

  it('re-lists periodically without reporting unchanged objects', async () => {
    const ns = await env.namespace('informer-relist');
    await env.createCv(ns, 'steady', { imageRepo: 'quay.io/acme/steady', tag: 'v1' });
    const index = informer({ relistIntervalMs: 100 });
    const changes: ContainerVersionChange[] = [];
    await index.start();
    await index.synced();
    index.onChange((c) => changes.push(c));
    const listsBefore = listRequests().length;
    await waitFor(() => listRequests().length >= listsBefore + 3, 'three re-lists');
    expect(changes).toEqual([]);
    expect(index.following('quay.io', 'acme/steady', 'v1')).toHaveLength(1);
  });

  it('stop() is final: the abort it causes does not restart the watch', async () => {
    const index = informer();
    await index.start();
    await index.synced();
    await index.stop();
    await index.stop();
    const watchesAfterStop = watchRequests().length;
    await new Promise((r) => setTimeout(r, 300));
    expect(watchRequests().length).toBe(watchesAfterStop);
  });
});
