import { afterEach, describe, expect, it } from 'vitest';
import type { KubeObject } from '../contract.js';
import type { Endpoints } from './endpoints-subsets.js';
import { simulate } from './simulation.js';

let running: ReturnType<typeof simulate> | undefined;
afterEach(() => running?.controllers.stop());

interface ContainerStatus {
  name: string;
  ready: boolean;
  restartCount: number;
  state: { running?: object; waiting?: { reason: string; message: string } };
  lastState: {
    terminated?: { exitCode: number; reason: string; startedAt: string; finishedAt: string };
  };
}

function deployment(name: string, image: string, replicas = 1): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'ref' },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'main', image }] },
      },
    },
  };
}

const podsOf = (sim: ReturnType<typeof simulate>, app: string) =>
  sim.store.list('pods', { namespace: 'ref', labelSelector: `app=${app}` });

const containerOf = (pod: KubeObject | undefined) =>
  (pod?.status as { containerStatuses?: ContainerStatus[] } | undefined)?.containerStatuses?.[0];

const condition = (pod: KubeObject, type: string) =>
  (pod.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions?.find(
    (c) => c.type === type,
  )?.status;

/** The Pod's Ready condition after each of its watch events, repeats collapsed: True, False, ... */
function readyFlips(sim: ReturnType<typeof simulate>, podName: string): string[] {
  const values = sim.events
    .filter((e) => e.resource === 'pods' && e.object.metadata.name === podName)
    .map((e) => condition(e.object, 'Ready'))
    .filter((v): v is string => v !== undefined);
  return values.filter((v, i) => v !== values[i - 1]);
}

describe('crash-looping Pods', () => {
  it('restart again and again: restartCount grows, Ready flips, lastState says why', () => {
    running = simulate({ podReadySeconds: 1, crashing: 'crashy', crashAfterSeconds: 2 });
    const sim = running;
    sim.store.create('deployments.apps', deployment('crash', 'example.invalid/crashy:1'));
    sim.store.create('deployments.apps', deployment('steady', 'nginx:1.25'));
    // Ready after 1 s, then a 3 s cycle: crash at 3 s, ready at 4 s, crash at 6 s, ...
    sim.clock.runFor(3_500);
    const [crashing] = podsOf(sim, 'crash');
    if (!crashing) throw new Error('no crashing pod');
    const crashed = containerOf(crashing);
    expect(crashed).toMatchObject({
      ready: false,
      restartCount: 1,
      state: { waiting: { reason: 'CrashLoopBackOff' } },
      lastState: { terminated: { exitCode: 1, reason: 'Error' } },
    });
    expect(crashed?.state.waiting?.message).toBe(
      `back-off 1s restarting failed container=main pod=${crashing.metadata.name ?? ''}_ref(${crashing.metadata.uid ?? ''})`,
    );
    expect(crashing.status?.phase).toBe('Running');
    expect(condition(crashing, 'Ready')).toBe('False');
    expect(condition(crashing, 'ContainersReady')).toBe('False');

    sim.clock.runFor(1_000);
    const restarted = containerOf(podsOf(sim, 'crash')[0]);
    expect(restarted).toMatchObject({ ready: true, restartCount: 1, state: { running: {} } });
    expect(restarted?.lastState.terminated?.exitCode).toBe(1);

    sim.clock.runFor(30_000);
    const later = podsOf(sim, 'crash');
    expect(later.map((p) => p.metadata.name)).toEqual([crashing.metadata.name]);
    expect(containerOf(later[0])?.restartCount).toBeGreaterThanOrEqual(5);
    expect(readyFlips(sim, crashing.metadata.name ?? '').slice(0, 5)).toEqual([
      'True',
      'False',
      'True',
      'False',
      'True',
    ]);

    const [steady] = podsOf(sim, 'steady');
    expect(containerOf(steady)).toMatchObject({ ready: true, restartCount: 0, lastState: {} });
    expect(readyFlips(sim, steady?.metadata.name ?? '')).toEqual(['True']);
  });

  it("take the ReplicaSet's and the Deployment's ready counts up and down", () => {
    running = simulate({ podReadySeconds: 1, crashing: 'crashy', crashAfterSeconds: 2 });
    const sim = running;
    sim.store.create('deployments.apps', deployment('crash', 'example.invalid/crashy:1', 2));
    sim.clock.runFor(20_000);
    const readyCounts = (resource: string) => {
      const values = sim.events
        .filter((e) => e.resource === resource && e.type === 'MODIFIED')
        .map((e) =>
          Number((e.object.status as { readyReplicas?: number } | undefined)?.readyReplicas ?? 0),
        );
      return values.filter((v, i) => v !== values[i - 1]);
    };
    for (const resource of ['replicasets.apps', 'deployments.apps']) {
      const counts = readyCounts(resource);
      const firstFull = counts.indexOf(2);
      expect(firstFull, `${resource}: ${counts.join(',')}`).toBeGreaterThanOrEqual(0);
      const afterFull = counts.slice(firstFull);
      expect(
        afterFull.some((c) => c < 2),
        `${resource}: ${counts.join(',')}`,
      ).toBe(true);
      expect(afterFull.slice(1).includes(2), `${resource}: ${counts.join(',')}`).toBe(true);
    }
  });

  it("move the Pod's address to notReadyAddresses and back in its Service's Endpoints", () => {
    running = simulate({ podReadySeconds: 1, crashing: 'crashy', crashAfterSeconds: 2 });
    const sim = running;
    sim.store.create('services', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'crash', namespace: 'ref' },
      spec: { clusterIP: '10.96.0.9', selector: { app: 'crash' }, ports: [{ port: 80 }] },
    });
    sim.store.create('deployments.apps', deployment('crash', 'example.invalid/crashy:1'));
    sim.clock.runFor(12_000);
    const where = sim.events
      .filter((e) => e.resource === 'endpoints')
      .map((e) => {
        const [subset] = (e.object as Endpoints).subsets ?? [];
        if (subset?.addresses) return 'ready';
        return subset?.notReadyAddresses ? 'notReady' : 'none';
      });
    expect(where.slice(0, 5)).toEqual(['none', 'ready', 'notReady', 'ready', 'notReady']);
  });

  it('ends with the Pod, and a container whose image stops matching stays up', () => {
    let crashy = true;
    running = simulate({
      podReadySeconds: 1,
      crashing: (image) => crashy && image.includes('crashy'),
      crashAfterSeconds: 2,
    });
    const sim = running;
    const bare = (name: string): KubeObject => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: 'ref' },
      spec: { containers: [{ name: 'main', image: 'example.invalid/crashy:1' }] },
    });
    sim.store.create('pods', bare('doomed'));
    sim.store.create('pods', bare('cured'));
    sim.clock.runFor(7_000);
    expect(containerOf(sim.store.get('pods', 'ref', 'doomed'))?.restartCount).toBe(2);

    sim.store.delete('pods', 'ref', 'doomed');
    crashy = false;
    sim.clock.runFor(60_000);
    const cured = containerOf(sim.store.get('pods', 'ref', 'cured'));
    expect(cured).toMatchObject({ ready: true, restartCount: 2, state: { running: {} } });
    expect(sim.clock.pending()).toBe(0);
  });

  it('stop() cancels the crash timers', () => {
    running = simulate({ podReadySeconds: 1, crashing: 'crashy' });
    const sim = running;
    sim.store.create('deployments.apps', deployment('crash', 'example.invalid/crashy:1'));
    sim.clock.runFor(10_000);
    expect(sim.clock.pending()).toBeGreaterThan(0);
    sim.controllers.stop();
    expect(sim.clock.pending()).toBe(0);
  });
});
