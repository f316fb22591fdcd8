import { afterEach, describe, expect, it } from 'vitest';
import type { DaemonSet } from './daemonset-planner.js';
import { fromCapture, normalize, simulate, stepsOf } from './simulation.js';

let running: ReturnType<typeof simulate> | undefined;
afterEach(() => running?.controllers.stop());

type Sim = ReturnType<typeof simulate>;

function setImage(store: Sim['store'], image: string): void {
  const ds = structuredClone(store.get('daemonsets.apps', 'ref', 'agent')) as DaemonSet;
  const container = ds.spec.template?.spec?.containers?.[0];
  if (container) container.image = image;
  store.update('daemonsets.apps', ds);
}

const images = (store: Sim['store']) =>
  store
    .list('pods', { namespace: 'ref' })
    .map((p) => `${String(p.spec?.nodeName)}=${String(p.spec?.containers?.[0]?.image)}`)
    .sort();

describe('DaemonSet controller against daemonset-rollout.json', () => {
  it('reports the captured statuses in order on one node', () => {
    running = simulate({ podReadySeconds: 1, nodes: ['fake-node-1'] });
    const { clock, store, events } = running;
    const { capture, object } = fromCapture('daemonset-rollout.json');
    // The API server fills these on create; the capture's ADDED event shows them.
    const status = {
      currentNumberScheduled: 0,
      desiredNumberScheduled: 0,
      numberMisscheduled: 0,
      numberReady: 0,
    };
    store.create('daemonsets.apps', { ...object, status });
    clock.runFor(10_000);
    setImage(store, 'nginx:1.26');
    clock.runFor(30_000);
    expect(normalize(stepsOf(events, 'daemonsets.apps', 'agent'), 'agent')).toEqual(
      normalize(capture.sequence, 'agent'),
    );
  });

  it('runs one Pod per node and replaces at most maxUnavailable at a time', () => {
    const nodes = ['n1', 'n2', 'n3', 'n4'];
    running = simulate({ podReadySeconds: 2, nodes });
    const { clock, store } = running;
    const { object } = fromCapture('daemonset-rollout.json');
    (object as DaemonSet).spec.updateStrategy = {
      type: 'RollingUpdate',
      rollingUpdate: { maxUnavailable: 2 },
    };
    store.create('daemonsets.apps', object);
    clock.runFor(10_000);
    expect(images(store)).toEqual(nodes.map((n) => `${n}=nginx:1.25`));
    setImage(store, 'nginx:1.26');
    let worst = 0;
    for (let i = 0; i < 200; i++) {
      clock.runFor(100);
      const ds = store.get('daemonsets.apps', 'ref', 'agent') as DaemonSet;
      worst = Math.max(worst, Number(ds.status?.numberUnavailable ?? 0));
    }
    expect(images(store)).toEqual(nodes.map((n) => `${n}=nginx:1.26`));
    expect(worst).toBe(2);
    const ds = store.get('daemonsets.apps', 'ref', 'agent') as DaemonSet;
    expect(ds.status).toMatchObject({
      desiredNumberScheduled: 4,
      updatedNumberScheduled: 4,
      numberAvailable: 4,
      observedGeneration: 2,
    });
  });
});
