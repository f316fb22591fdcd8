import { afterEach, describe, expect, it } from 'vitest';
import type { KubeObject } from '../contract.js';
import { MemoryStore } from '../store.js';
import type { Endpoints, EndpointSubset } from './endpoints-subsets.js';
import { startControllers } from './index.js';
import { ManualClock } from './manual-clock.js';
import { simulate } from './simulation.js';

let running: ReturnType<typeof simulate> | undefined;
afterEach(() => running?.controllers.stop());

function deployment(name: string, replicas: number, image = 'nginx:1.25'): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'ref' },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [{ name: 'main', image, ports: [{ name: 'http', containerPort: 8080 }] }],
        },
      },
    },
  };
}

function service(selector: Record<string, string> | undefined, targetPort: number | string = 8080) {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: 'ref', labels: { tier: 'front' } },
    spec: {
      clusterIP: '10.96.0.10',
      ...(selector ? { selector } : {}),
      ports: [{ name: 'http', port: 80, targetPort, protocol: 'TCP' }],
    },
  };
}

function endpoints(sim: ReturnType<typeof simulate>): Endpoints | undefined {
  return sim.store.get('endpoints', 'ref', 'web');
}

/** Pod name → IP of the Running Pods of `app`. */
function podIPs(sim: ReturnType<typeof simulate>, app: string): Map<string, string> {
  return new Map(
    sim.store
      .list('pods', { namespace: 'ref', labelSelector: `app=${app}` })
      .map((p) => [p.metadata.name ?? '', (p.status as { podIP?: string }).podIP ?? ''] as const),
  );
}

/** Pod names in `addresses` (ready) and `notReadyAddresses`, each sorted. */
function members(subsets: EndpointSubset[] | undefined) {
  const names = (key: 'addresses' | 'notReadyAddresses') =>
    (subsets ?? []).flatMap((s) => (s[key] ?? []).map((a) => a.targetRef.name)).sort();
  return { ready: names('addresses'), notReady: names('notReadyAddresses') };
}

const endpointsEvents = (sim: ReturnType<typeof simulate>) =>
  sim.events.filter((e) => e.resource === 'endpoints');

describe('Endpoints controller', () => {
  it('follows the Pods of its selector as they start and become ready', () => {
    running = simulate({ podReadySeconds: 5 });
    const sim = running;
    sim.store.create('services', service({ app: 'blue' }));
    sim.store.create('deployments.apps', deployment('blue', 2));
    sim.clock.runFor(1_000);
    const before = endpoints(sim);
    expect(before?.metadata.labels).toEqual({ tier: 'front' });
    expect(before).not.toHaveProperty('subsets');

    sim.clock.runFor(10_000);
    const after = endpoints(sim);
    const ips = podIPs(sim, 'blue');
    expect(ips.size).toBe(2);
    expect(after?.subsets).toHaveLength(1);
    const subset = after?.subsets?.[0];
    expect(subset?.ports).toEqual([{ name: 'http', port: 8080, protocol: 'TCP' }]);
    expect(subset?.notReadyAddresses).toBeUndefined();
    expect(
      subset?.addresses?.map((a) => [a.targetRef.name, a.ip, a.nodeName, a.targetRef.kind]).sort(),
    ).toEqual([...ips].map(([name, ip]) => [name, ip, 'fake-node-1', 'Pod']).sort());
    // The last write followed the last Pod that became ready.
    const readySince = sim.store
      .list('pods', { namespace: 'ref' })
      .map((p) => p.status as { conditions: { type: string; lastTransitionTime: string }[] })
      .map((st) => st.conditions.find((c) => c.type === 'Ready')?.lastTransitionTime ?? '')
      .sort()
      .at(-1);
    expect(after?.metadata.annotations).toEqual({
      'endpoints.kubernetes.io/last-change-trigger-time': readySince,
    });
  });

  it('lists Running Pods that are not Ready as notReadyAddresses', () => {
    running = simulate({ podReadySeconds: 1 });
    const sim = running;
    sim.store.create('services', service({ app: 'blue' }));
    sim.store.create('deployments.apps', deployment('blue', 2, 'example.invalid/never-ready:1'));
    sim.clock.runFor(10_000);
    expect(members(endpoints(sim)?.subsets)).toEqual({
      ready: [],
      notReady: [...podIPs(sim, 'blue').keys()].sort(),
    });
  });

  it('moves to the other Pods as soon as the selector is switched (blue → green)', () => {
    running = simulate({ podReadySeconds: 1 });
    const sim = running;
    sim.store.create('services', service({ app: 'blue' }));
    sim.store.create('deployments.apps', deployment('blue', 2));
    sim.store.create('deployments.apps', deployment('green', 3));
    sim.clock.runFor(20_000);
    expect(members(endpoints(sim)?.subsets).ready).toEqual([...podIPs(sim, 'blue').keys()].sort());

    const svc = sim.store.get('services', 'ref', 'web') as KubeObject;
    sim.store.update('services', { ...svc, spec: { ...svc.spec, selector: { app: 'green' } } });
    // One queue drain (a 0 ms timer), no waiting on Pods.
    sim.clock.runFor(0);
    const green = endpoints(sim);
    expect(members(green?.subsets)).toEqual({
      ready: [...podIPs(sim, 'green').keys()].sort(),
      notReady: [],
    });
    expect(green?.subsets?.[0]?.addresses?.map((a) => a.ip).sort()).toEqual(
      [...podIPs(sim, 'green').values()].sort(),
    );
  });

  it('drops deleted Pods and Pods relabelled out of the selector', () => {
    running = simulate({ podReadySeconds: 1 });
    const sim = running;
    sim.store.create('services', service({ app: 'blue' }));
    sim.store.create('deployments.apps', deployment('blue', 3));
    sim.clock.runFor(20_000);
    expect(members(endpoints(sim)?.subsets).ready).toHaveLength(3);

    const d = sim.store.get('deployments.apps', 'ref', 'blue') as KubeObject;
    sim.store.update('deployments.apps', { ...d, spec: { ...d.spec, replicas: 1 } });
    sim.clock.runFor(5_000);
    const left = [...podIPs(sim, 'blue').keys()];
    expect(left).toHaveLength(1);
    expect(members(endpoints(sim)?.subsets)).toEqual({ ready: left, notReady: [] });

    const [pod] = sim.store.list('pods', { namespace: 'ref', labelSelector: 'app=blue' });
    if (!pod) throw new Error('no pod');
    // The ReplicaSet owns it by ownerReference, so it keeps it; the Service no longer selects it.
    sim.store.update('pods', {
      ...pod,
      metadata: { ...pod.metadata, labels: { ...pod.metadata.labels, app: 'debug' } },
    });
    sim.clock.runFor(0);
    expect(members(endpoints(sim)?.subsets).ready).not.toContain(pod.metadata.name);
  });

  it('resolves a named targetPort from the container ports', () => {
    running = simulate({ podReadySeconds: 1 });
    const sim = running;
    sim.store.create('services', service({ app: 'blue' }, 'http'));
    sim.store.create('deployments.apps', deployment('blue', 1));
    sim.clock.runFor(10_000);
    expect(endpoints(sim)?.subsets?.[0]?.ports).toEqual([
      { name: 'http', port: 8080, protocol: 'TCP' },
    ]);
  });

  it('deletes the Endpoints with its Service, and recreates one deleted by hand', () => {
    running = simulate({ podReadySeconds: 1 });
    const sim = running;
    sim.store.create('services', service({ app: 'blue' }));
    sim.store.create('deployments.apps', deployment('blue', 1));
    sim.clock.runFor(10_000);
    const first = endpoints(sim);
    expect(first?.subsets).toHaveLength(1);

    sim.store.delete('endpoints', 'ref', 'web');
    sim.clock.runFor(0);
    const again = endpoints(sim);
    expect(again?.metadata.uid).not.toBe(first?.metadata.uid);
    expect(again?.subsets).toEqual(first?.subsets);

    sim.store.delete('services', 'ref', 'web');
    sim.clock.runFor(0);
    expect(endpoints(sim)).toBeUndefined();
  });

  it('leaves the hand-written Endpoints of a Service without a selector alone', () => {
    running = simulate({ podReadySeconds: 1 });
    const sim = running;
    sim.store.create('services', service(undefined));
    const written = sim.store.create('endpoints', {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name: 'web', namespace: 'ref' },
      subsets: [{ addresses: [{ ip: '192.0.2.7' }], ports: [{ port: 5432, protocol: 'TCP' }] }],
    });
    sim.store.create('deployments.apps', deployment('web', 2));
    sim.clock.runFor(10_000);
    const svc = sim.store.get('services', 'ref', 'web') as KubeObject;
    sim.store.update('services', { ...svc, metadata: { ...svc.metadata, labels: { x: 'y' } } });
    sim.clock.runFor(10_000);
    expect(endpoints(sim)).toEqual(written);
  });

  it('writes only when something changed: no Endpoints event for a Pod change it ignores', () => {
    running = simulate({ podReadySeconds: 1 });
    const sim = running;
    sim.store.create('services', service({ app: 'blue' }));
    sim.store.create('deployments.apps', deployment('blue', 2));
    sim.clock.runFor(20_000);
    const settled = endpointsEvents(sim).length;
    expect(settled).toBeGreaterThan(0);
    for (const pod of sim.store.list('pods', { namespace: 'ref' })) {
      sim.store.update('pods', {
        ...pod,
        metadata: { ...pod.metadata, annotations: { touched: 'yes' } },
      });
    }
    const svc = sim.store.get('services', 'ref', 'web') as KubeObject;
    sim.store.update('services', {
      ...svc,
      metadata: { ...svc.metadata, annotations: { a: 'b' } },
    });
    sim.clock.runFor(60_000);
    expect(endpointsEvents(sim)).toHaveLength(settled);
  });
});

describe('Endpoints controller at start', () => {
  it('deletes an Endpoints left without its Service, but not a leader-election record', () => {
    const clock = new ManualClock();
    const store = new MemoryStore({ now: () => clock.now() });
    store.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ref' } });
    const endpoints = (name: string, annotations?: Record<string, string>) => ({
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name, namespace: 'ref', ...(annotations ? { annotations } : {}) },
    });
    store.create('endpoints', endpoints('orphan'));
    store.create(
      'endpoints',
      endpoints('lock', { 'control-plane.alpha.kubernetes.io/leader': '{}' }),
    );
    store.create('services', service(undefined));
    store.create('endpoints', endpoints('web'));
    const controllers = startControllers({
      store,
      clock,
      nodes: ['fake-node-1'],
      podReadySeconds: 1,
      neverReady: () => false,
    });
    clock.runFor(0);
    controllers.stop();
    expect(store.list('endpoints', { namespace: 'ref' }).map((e) => e.metadata.name)).toEqual([
      'lock',
      'web',
    ]);
  });
});
