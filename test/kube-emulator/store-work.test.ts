// The store's cost per write must not grow with what it holds (issue 16: 10 000 CVs and
// Deployments at a constant creation rate). Judged by counting work, not by timing: the objects
// (and history entries) its lists, cascades and replays look at, and the deep copies it makes.
import { afterEach, describe, expect, it } from 'vitest';
import type { KubeObject } from './contract.js';
import { simulate } from './controllers/simulation.js';
import { startKubeEmulator, type KubeEmulator } from './index.js';
import { EMULATOR_TOKEN } from './kubeconfig.js';
import { MemoryStore, type StoreWork } from './store.js';

function deployment(name: string, namespace: string): KubeObject {
  const labels = { app: name };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, labels },
    spec: {
      replicas: 1,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: { containers: [{ name: 'app', image: 'example.com/app:1' }] },
      },
    },
  };
}

function configMap(name: string, namespace: string, labels?: Record<string, string>): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace, labels } };
}

const since = (work: StoreWork, before: StoreWork) => ({
  visited: work.visited - before.visited,
  cloned: work.cloned - before.cloned,
});

/**
 * Creates Deployments app-<from>..app-<from+count-1> (their own namespace each, or all in
 * `shared`) with the controllers running, lets each roll out (ReplicaSet, Pod, Ready), and returns
 * the store's work per Deployment.
 */
function rollOut(
  sim: ReturnType<typeof simulate>,
  from: number,
  count: number,
  shared?: string,
): StoreWork {
  const before = { ...sim.store.work };
  for (let i = from; i < from + count; i++) {
    const namespace = shared ?? `ns-${i}`;
    if (!sim.store.get('namespaces', undefined, namespace)) {
      sim.store.create('namespaces', {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: namespace },
      });
    }
    sim.store.create('deployments.apps', deployment(`app-${i}`, namespace));
    sim.clock.runFor(3_000);
  }
  const work = since(sim.store.work, before);
  return { visited: work.visited / count, cloned: work.cloned / count };
}

describe('the store work of a write does not grow with the store', () => {
  let sim: ReturnType<typeof simulate> | undefined;
  afterEach(() => sim?.controllers.stop());

  for (const layout of ['a namespace each', 'one namespace for all'] as const) {
    it(`a Deployment rolled out among 500 others costs what one among 10 does (${layout})`, () => {
      sim = simulate({ podReadySeconds: 1 });
      const shared = layout === 'one namespace for all' ? 'apps' : undefined;
      const small = rollOut(sim, 0, 10, shared);
      rollOut(sim, 10, 490, shared);
      const large = rollOut(sim, 500, 10, shared);
      const ready = sim.store
        .list('deployments.apps')
        .filter((d) => (d.status as { readyReplicas?: number } | undefined)?.readyReplicas === 1);
      expect(ready).toHaveLength(510);
      // The same syncs look at the same few objects (the owner's ReplicaSets and Pods), however
      // many others there are; a scan of a resource or a namespace would multiply it by ~50.
      expect(large.visited).toBeGreaterThan(0);
      expect(large.visited).toBeLessThanOrEqual(small.visited * 1.1 + 1);
      expect(large.cloned).toBeLessThanOrEqual(small.cloned * 1.1 + 1);
    });
  }

  it('deleting a Deployment visits its own ReplicaSet and Pod only, however many there are', () => {
    sim = simulate({ podReadySeconds: 1 });
    rollOut(sim, 0, 300, 'apps');
    const deleteOne = (name: string) => {
      const before = { ...sim!.store.work };
      sim!.store.delete('deployments.apps', 'apps', name);
      return since(sim!.store.work, before).visited;
    };
    const visited = deleteOne('app-7');
    expect(visited).toBeLessThanOrEqual(3);
    expect(sim.store.list('replicasets.apps', { namespace: 'apps' })).toHaveLength(299);
    expect(
      sim.store
        .list('pods', { namespace: 'apps' })
        .filter((p) => p.metadata.labels?.app === 'app-7'),
    ).toEqual([]);
  });

  it('a list narrowed by namespace, owner or label value looks at those objects only', () => {
    const store = new MemoryStore();
    for (let i = 0; i < 1_000; i++) {
      store.create('configmaps', configMap(`cm-${i}`, `ns-${i % 100}`, { n: String(i % 10) }));
    }
    const visits = (list: () => KubeObject[]) => {
      const before = store.work.visited;
      const n = list().length;
      return { n, visited: store.work.visited - before };
    };
    expect(visits(() => store.list('configmaps', { namespace: 'ns-3' }))).toEqual({
      n: 10,
      visited: 10,
    });
    expect(visits(() => store.list('configmaps', { labelSelector: 'n=3' }))).toEqual({
      n: 100,
      visited: 100,
    });
    expect(visits(() => store.list('configmaps', { labelSelector: 'n in (3,4),x!=y' }))).toEqual({
      n: 200,
      visited: 200,
    });
    expect(
      visits(() => store.list('configmaps', { namespace: 'ns-3', labelSelector: 'n=3' })),
    ).toEqual({ n: 10, visited: 10 });
    expect(visits(() => store.list('configmaps', { labelSelector: 'n=none' }))).toEqual({
      n: 0,
      visited: 0,
    });
  });

  it('a watch resuming from a resourceVersion replays from the history without scanning it', () => {
    const store = new MemoryStore({ historyLimit: 5_000 });
    for (let i = 0; i < 4_000; i++) store.create('configmaps', configMap(`cm-${i}`, 'default'));
    const before = store.work.visited;
    const events = store.eventsSince(3_990);
    expect(events?.map((e) => e.object.metadata.name)).toEqual(
      Array.from({ length: 10 }, (_, i) => `cm-${3_990 + i}`),
    );
    // Bisection (log2 4000 ≈ 12) plus the ten returned.
    expect(store.work.visited - before).toBeLessThanOrEqual(25);
  });
});

describe('the indexes answer what a scan would', () => {
  it('lists follow label changes, deletions and ownership, sorted by namespace/name', () => {
    const store = new MemoryStore();
    const owner = store.create('configmaps', configMap('owner', 'a'));
    const ref = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      name: 'owner',
      uid: owner.metadata.uid ?? '',
    };
    for (const [name, ns] of [
      ['z', 'b'],
      ['y', 'a'],
      ['x', 'b'],
    ] as const) {
      store.create('configmaps', { ...configMap(name, ns, { tier: 'web' }) });
    }
    const names = (o: KubeObject[]) => o.map((x) => `${x.metadata.namespace}/${x.metadata.name}`);
    expect(names(store.list('configmaps', { labelSelector: 'tier=web' }))).toEqual([
      'a/y',
      'b/x',
      'b/z',
    ]);
    const y = store.get('configmaps', 'a', 'y')!;
    store.update('configmaps', {
      ...y,
      metadata: { ...y.metadata, labels: { tier: 'db' }, ownerReferences: [ref] },
    });
    expect(names(store.list('configmaps', { labelSelector: 'tier=web' }))).toEqual(['b/x', 'b/z']);
    expect(names(store.list('configmaps', { labelSelector: 'tier in (db,web)' }))).toEqual([
      'a/y',
      'b/x',
      'b/z',
    ]);
    expect(names(store.list('configmaps', { ownerUid: owner.metadata.uid ?? '' }))).toEqual([
      'a/y',
    ]);
    store.delete('configmaps', 'b', 'x');
    expect(names(store.list('configmaps', { namespace: 'b' }))).toEqual(['b/z']);
    store.delete('configmaps', 'a', 'owner');
    expect(names(store.list('configmaps'))).toEqual(['b/z']);
    expect(store.list('configmaps', { ownerUid: owner.metadata.uid ?? '' })).toEqual([]);
  });

  it('a cascade deletes dependents in creation order, even one that was adopted later', () => {
    const store = new MemoryStore();
    const owner = store.create('configmaps', configMap('owner', 'a'));
    const ref = { apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata.uid! };
    const early = store.create('configmaps', configMap('early', 'a'));
    store.create('configmaps', {
      ...configMap('late', 'a'),
      metadata: { name: 'late', namespace: 'a', ownerReferences: [ref] },
    });
    store.update('configmaps', {
      ...early,
      metadata: { ...early.metadata, ownerReferences: [ref] },
    });
    const deleted: string[] = [];
    store.subscribe((e) => {
      if (e.type === 'DELETED') deleted.push(e.object.metadata.name ?? '');
    });
    store.delete('configmaps', 'a', 'owner');
    expect(deleted).toEqual(['owner', 'early', 'late']);
  });

  it('a history longer than its limit keeps the newest events and expires the rest', () => {
    const store = new MemoryStore({ historyLimit: 1_500 });
    for (let i = 0; i < 5_000; i++) store.create('configmaps', configMap(`cm-${i}`, 'default'));
    expect(store.eventsSince(3_499)).toBeUndefined();
    expect(store.eventsSince(3_500)?.length).toBe(1_500);
    expect(store.eventsSince(4_999)?.map((e) => e.object.metadata.name)).toEqual(['cm-4999']);
  });
});

describe('watch fan-out', () => {
  let emulator: KubeEmulator | undefined;
  afterEach(async () => {
    await emulator?.stop();
    emulator = undefined;
  });

  /** Opens `n` watches of configmaps in default; resolves once each has its stream open. */
  async function openWatches(
    n: number,
    signal: AbortSignal,
  ): Promise<ReadableStreamDefaultReader[]> {
    const readers: ReadableStreamDefaultReader[] = [];
    for (let i = 0; i < n; i++) {
      const response = await fetch(
        `${emulator!.url}/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${emulator!.store.resourceVersion()}`,
        { headers: { authorization: `Bearer ${EMULATOR_TOKEN}` }, signal },
      );
      expect(response.status).toBe(200);
      readers.push(response.body!.getReader());
    }
    return readers;
  }

  async function createWithWatches(n: number, name: string): Promise<number> {
    const abort = new AbortController();
    const readers = await openWatches(n, abort.signal);
    const before = emulator!.store.work.cloned;
    const response = await fetch(`${emulator!.url}/api/v1/namespaces/default/configmaps`, {
      method: 'POST',
      headers: { authorization: `Bearer ${EMULATOR_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ metadata: { name } }),
    });
    expect(response.status).toBe(201);
    const cloned = emulator!.store.work.cloned - before;
    const decoder = new TextDecoder();
    for (const reader of readers) {
      const { value } = await reader.read();
      const line = JSON.parse(decoder.decode(value).split('\n')[0] ?? '') as {
        type: string;
        object: KubeObject;
      };
      expect(line.type).toBe('ADDED');
      expect(line.object.metadata.name).toBe(name);
    }
    abort.abort();
    return cloned;
  }

  it('one write copies the object as often with 20 watches as with one', async () => {
    emulator = await startKubeEmulator({ port: 0 });
    const one = await createWithWatches(1, 'with-one');
    const twenty = await createWithWatches(20, 'with-twenty');
    expect(one).toBeGreaterThan(0);
    expect(twenty).toBe(one);
  });
});
