import { afterEach, describe, expect, it } from 'vitest';
import { fromCapture, normalize, simulate, stepsOf } from './simulation.js';
import type { StatefulSet } from './statefulset-planner.js';

let running: ReturnType<typeof simulate> | undefined;
afterEach(() => running?.controllers.stop());

type Sim = ReturnType<typeof simulate>;

function patchSet(store: Sim['store'], change: (set: StatefulSet) => void): void {
  const set = structuredClone(store.get('statefulsets.apps', 'ref', 'db')) as StatefulSet;
  change(set);
  store.update('statefulsets.apps', set);
}

function setImage(set: StatefulSet, image: string): void {
  const container = set.spec.template?.spec?.containers?.[0];
  if (container) container.image = image;
}

function podRevisions(store: Sim['store']): Record<string, string | undefined> {
  return Object.fromEntries(
    store
      .list('pods', { namespace: 'ref' })
      .map((p) => [p.metadata.name, p.metadata.labels?.['controller-revision-hash']]),
  );
}

describe('StatefulSet controller against statefulset-rollout.json', () => {
  it('creates Pods in order and rolls from the highest ordinal down, as captured', () => {
    running = simulate({ podReadySeconds: 1 });
    const { clock, store, events } = running;
    const { capture, object } = fromCapture('statefulset-rollout.json');
    // The API server defaults a new StatefulSet's status; the capture's ADDED event shows it.
    store.create('statefulsets.apps', { ...object, status: { availableReplicas: 0, replicas: 0 } });
    clock.runFor(15_000);
    patchSet(store, (set) => setImage(set, 'nginx:1.26'));
    clock.runFor(30_000);
    const ours = normalize(stepsOf(events, 'statefulsets.apps', 'db'), 'db');
    const theirs = normalize(capture.sequence, 'db');
    // A Pod deleted in a pass still counts as terminating in that pass's status, as captured.
    expect(ours).toEqual(theirs);
    const revisions = store.list('controllerrevisions.apps', { namespace: 'ref' });
    expect(revisions.map((r) => r.revision)).toEqual(expect.arrayContaining([1, 2]));
    const set = store.get('statefulsets.apps', 'ref', 'db') as StatefulSet;
    expect(Object.values(podRevisions(store))).toEqual([
      set.status?.currentRevision,
      set.status?.currentRevision,
    ]);
  });

  it('with a partition updates only the ordinals at or above it', () => {
    running = simulate({ podReadySeconds: 1 });
    const { clock, store } = running;
    const { object } = fromCapture('statefulset-rollout.json');
    const set = object as StatefulSet;
    set.spec.replicas = 3;
    set.spec.updateStrategy = { type: 'RollingUpdate', rollingUpdate: { partition: 1 } };
    store.create('statefulsets.apps', set);
    clock.runFor(10_000);
    const before = podRevisions(store);
    patchSet(store, (s) => setImage(s, 'nginx:1.26'));
    clock.runFor(20_000);
    const after = podRevisions(store);
    const status = (store.get('statefulsets.apps', 'ref', 'db') as StatefulSet).status;
    expect(after['db-0']).toBe(before['db-0']);
    expect(after['db-1']).toBe(status?.updateRevision);
    expect(after['db-2']).toBe(status?.updateRevision);
    expect(status).toMatchObject({ updatedReplicas: 2, currentReplicas: 1, readyReplicas: 3 });
    expect(status?.currentRevision).not.toBe(status?.updateRevision);
  });

  it('with OnDelete leaves running Pods alone and uses the new revision only for recreated ones', () => {
    running = simulate({ podReadySeconds: 1 });
    const { clock, store } = running;
    const { object } = fromCapture('statefulset-rollout.json');
    const set = object as StatefulSet;
    set.spec.updateStrategy = { type: 'OnDelete' };
    store.create('statefulsets.apps', set);
    clock.runFor(10_000);
    const before = podRevisions(store);
    patchSet(store, (s) => setImage(s, 'nginx:1.26'));
    clock.runFor(20_000);
    expect(podRevisions(store)).toEqual(before);
    store.delete('pods', 'ref', 'db-1');
    clock.runFor(10_000);
    const status = (store.get('statefulsets.apps', 'ref', 'db') as StatefulSet).status;
    expect(podRevisions(store)['db-0']).toBe(before['db-0']);
    expect(podRevisions(store)['db-1']).toBe(status?.updateRevision);
    expect(status).toMatchObject({ replicas: 2, readyReplicas: 2, updatedReplicas: 1 });
  });
});
