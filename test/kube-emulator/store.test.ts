import { describe, expect, it } from 'vitest';
import type { KubeObject, StoreEvent } from './contract.js';
import { StatusError } from './contract.js';
import { MemoryStore } from './store.js';

function deployment(name: string, image = 'nginx:1'): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default', labels: { app: name } },
    spec: { replicas: 1, template: { spec: { containers: [{ name: 'app', image }] } } },
  };
}

function statusOf(fn: () => unknown): { code: number; reason: string; message: string } {
  try {
    fn();
  } catch (error) {
    if (error instanceof StatusError) return error;
    throw error;
  }
  throw new Error('expected a StatusError');
}

describe('MemoryStore', () => {
  it('create fills uid, resourceVersion, creationTimestamp and generation 1', () => {
    const store = new MemoryStore({ now: () => Date.parse('2026-11-27T20:00:05.123Z') });
    const created = store.create('deployments.apps', deployment('web'));
    expect(created.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.metadata.resourceVersion).toBe('1');
    expect(created.metadata.generation).toBe(1);
    expect(created.metadata.creationTimestamp).toBe('2026-11-27T20:00:05Z');
  });

  it('configmaps carry no generation; generateName makes a name', () => {
    const store = new MemoryStore();
    const cm = store.create('configmaps', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { generateName: 'cfg-', namespace: 'default' },
    });
    expect(cm.metadata.name).toMatch(/^cfg-[a-z0-9]{5}$/);
    expect(cm.metadata.generation).toBeUndefined();
  });

  it('a second create of the same name is 409 AlreadyExists', () => {
    const store = new MemoryStore();
    store.create('deployments.apps', deployment('web'));
    const error = statusOf(() => store.create('deployments.apps', deployment('web')));
    expect(error).toMatchObject({ code: 409, reason: 'AlreadyExists' });
    expect(error.message).toBe('deployments.apps "web" already exists');
  });

  it('resourceVersion is global and monotonic across resources', () => {
    const store = new MemoryStore();
    const a = store.create('deployments.apps', deployment('a'));
    const b = store.create('configmaps', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'b', namespace: 'default' },
    });
    const a2 = store.update('deployments.apps', {
      ...a,
      spec: { ...(a.spec as object), replicas: 2 },
    });
    expect([a, b, a2].map((o) => Number(o.metadata.resourceVersion))).toEqual([1, 2, 3]);
    expect(store.resourceVersion()).toBe('3');
  });

  it('generation moves on spec changes only, and status through update is ignored', () => {
    const store = new MemoryStore();
    const created = store.create('deployments.apps', deployment('web'));
    const labelled = store.update('deployments.apps', {
      ...created,
      metadata: { ...created.metadata, labels: { app: 'web', x: 'y' } },
      status: { replicas: 9 },
    });
    expect(labelled.metadata.generation).toBe(1);
    expect(labelled.status).toBeUndefined();
    const changed = store.update('deployments.apps', deployment('web', 'nginx:2'));
    expect(changed.metadata.generation).toBe(2);
    const status = store.updateStatus('deployments.apps', {
      ...changed,
      spec: { replicas: 5 },
      status: { observedGeneration: 2 },
    });
    expect((status.spec as { replicas: number }).replicas).toBe(1);
    expect(status.status).toEqual({ observedGeneration: 2 });
    expect(status.metadata.generation).toBe(2);
  });

  it('a stale resourceVersion is 409 Conflict; an empty one updates unconditionally', () => {
    const store = new MemoryStore();
    const created = store.create('deployments.apps', deployment('web'));
    store.update('deployments.apps', deployment('web', 'nginx:2'));
    const error = statusOf(() =>
      store.update('deployments.apps', { ...created, spec: { replicas: 3 } }),
    );
    expect(error).toMatchObject({ code: 409, reason: 'Conflict' });
    expect(error.message).toBe(
      'Operation cannot be fulfilled on deployments.apps "web": the object has been modified; please apply your changes to the latest version and try again',
    );
    expect(statusOf(() => store.updateStatus('deployments.apps', created)).code).toBe(409);
  });

  it('an update that changes nothing keeps the resourceVersion and sends no event', () => {
    const store = new MemoryStore();
    const created = store.create('deployments.apps', deployment('web'));
    const events: StoreEvent[] = [];
    store.subscribe((e) => events.push(e));
    const same = store.update('deployments.apps', created);
    expect(same.metadata.resourceVersion).toBe(created.metadata.resourceVersion);
    expect(events).toEqual([]);
  });

  it('returns deep copies', () => {
    const store = new MemoryStore();
    const created = store.create('deployments.apps', deployment('web'));
    (created.spec as { replicas: number }).replicas = 100;
    const read = store.get('deployments.apps', 'default', 'web');
    expect((read?.spec as { replicas: number }).replicas).toBe(1);
  });

  it('lists by namespace and set-based label selector, sorted by name', () => {
    const store = new MemoryStore();
    for (const name of ['c', 'a', 'b']) store.create('deployments.apps', deployment(name));
    store.create('deployments.apps', {
      ...deployment('z'),
      metadata: { name: 'z', namespace: 'other' },
    });
    expect(
      store.list('deployments.apps', { namespace: 'default' }).map((d) => d.metadata.name),
    ).toEqual(['a', 'b', 'c']);
    expect(
      store.list('deployments.apps', { labelSelector: 'app in (a,c)' }).map((d) => d.metadata.name),
    ).toEqual(['a', 'c']);
    expect(store.list('deployments.apps').length).toBe(4);
  });

  it('delete cascades to dependents through ownerReferences, recursively', () => {
    const store = new MemoryStore();
    const owner = store.create('deployments.apps', deployment('web'));
    const rs = store.create('replicasets.apps', {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name: 'web-1',
        namespace: 'default',
        ownerReferences: [
          {
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            name: 'web',
            uid: owner.metadata.uid ?? '',
            controller: true,
          },
        ],
      },
      spec: {},
    });
    store.create('pods', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'web-1-x',
        namespace: 'default',
        ownerReferences: [
          {
            apiVersion: 'apps/v1',
            kind: 'ReplicaSet',
            name: 'web-1',
            uid: rs.metadata.uid ?? '',
            controller: true,
          },
        ],
      },
    });
    const events: string[] = [];
    store.subscribe((e) => events.push(`${e.type} ${e.resource} ${e.object.metadata.name ?? ''}`));
    store.delete('deployments.apps', 'default', 'web');
    expect(events).toEqual([
      'DELETED deployments.apps web',
      'DELETED replicasets.apps web-1',
      'DELETED pods web-1-x',
    ]);
    expect(statusOf(() => store.delete('pods', 'default', 'web-1-x'))).toMatchObject({
      code: 404,
      message: 'pods "web-1-x" not found',
    });
  });

  it('orphan propagation keeps dependents and drops the reference', () => {
    const store = new MemoryStore();
    const owner = store.create('deployments.apps', deployment('web'));
    store.create('replicasets.apps', {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name: 'rs',
        namespace: 'default',
        ownerReferences: [
          { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: owner.metadata.uid ?? '' },
        ],
      },
    });
    store.delete('deployments.apps', 'default', 'web', { propagationPolicy: 'Orphan' });
    expect(
      store.get('replicasets.apps', 'default', 'rs')?.metadata.ownerReferences,
    ).toBeUndefined();
  });

  it('listeners see events in commit order even when they write during a notification', () => {
    const store = new MemoryStore();
    const seen: string[] = [];
    store.subscribe((e) => {
      if (e.type === 'ADDED' && e.object.metadata.name === 'a')
        store.create('deployments.apps', deployment('b'));
    });
    store.subscribe((e) =>
      seen.push(`${e.object.metadata.name ?? ''}@${e.object.metadata.resourceVersion ?? ''}`),
    );
    store.create('deployments.apps', deployment('a'));
    expect(seen).toEqual(['a@1', 'b@2']);
  });

  it('keeps a bounded history; compaction makes older resourceVersions expire', () => {
    const store = new MemoryStore({ historyLimit: 2 });
    for (const name of ['a', 'b', 'c']) store.create('deployments.apps', deployment(name));
    expect(store.eventsSince(0)).toBeUndefined();
    expect(store.eventsSince(1)?.map((e) => e.object.metadata.name)).toEqual(['b', 'c']);
    store.compact();
    expect(store.eventsSince(2)).toBeUndefined();
    expect(store.eventsSince(3)).toEqual([]);
  });
});
