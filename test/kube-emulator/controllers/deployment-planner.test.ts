import { afterEach, describe, expect, it } from 'vitest';
import type { Deployment, ReplicaSet } from './deployment-types.js';
import { fenceposts } from './deployment-util.js';
import { fromCapture, simulate } from './simulation.js';

let running: ReturnType<typeof simulate> | undefined;
afterEach(() => running?.controllers.stop());

function withStrategy(replicas: number, maxSurge: unknown, maxUnavailable: unknown): Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'x' },
    spec: {
      replicas,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge, maxUnavailable } },
    },
  } as Deployment;
}

describe('fenceposts (maxSurge rounds up, maxUnavailable down, never both 0)', () => {
  it.each([
    [3, '25%', '25%', 1, 0],
    [2, '25%', '25%', 1, 0],
    [10, '25%', '25%', 3, 2],
    [4, 0, 0, 0, 1],
    [5, 2, '50%', 2, 2],
  ])('%i replicas, surge %s, unavailable %s → %i / %i', (replicas, surge, unavailable, s, u) => {
    expect(fenceposts(withStrategy(replicas, surge, unavailable))).toEqual({
      surge: s,
      unavailable: u,
    });
  });
});

type Sim = ReturnType<typeof simulate>;

function update(store: Sim['store'], change: (d: Deployment) => void): void {
  const d = structuredClone(store.get('deployments.apps', 'ref', 'web')) as Deployment;
  change(d);
  store.update('deployments.apps', d);
}

const setImage = (image: string) => (d: Deployment) => {
  const container = d.spec.template?.spec?.containers?.[0];
  if (container) container.image = image;
};

function replicaSets(store: Sim['store']): ReplicaSet[] {
  return store.list('replicasets.apps', { namespace: 'ref' }) as ReplicaSet[];
}

describe('Deployment strategies and pause', () => {
  it('Recreate scales the old ReplicaSet to 0 and waits for its Pods before the new one', () => {
    running = simulate({ podReadySeconds: 1 });
    const { clock, store } = running;
    const { object } = fromCapture('deployment-rollout.json');
    (object as Deployment).spec.strategy = { type: 'Recreate' };
    store.create('deployments.apps', object);
    clock.runFor(10_000);
    let overlap = false;
    store.subscribe(() => {
      const images = new Set(
        store.list('pods', { namespace: 'ref' }).map((p) => p.spec?.containers?.[0]?.image),
      );
      if (images.size > 1) overlap = true;
    });
    update(store, setImage('nginx:1.26'));
    clock.runFor(20_000);
    expect(overlap).toBe(false);
    const sizes = replicaSets(store).map((rs) => [
      rs.metadata.annotations?.['deployment.kubernetes.io/revision'],
      rs.spec.replicas,
    ]);
    expect(sizes.sort()).toEqual([
      ['1', 0],
      ['2', 3],
    ]);
    const d = store.get('deployments.apps', 'ref', 'web') as Deployment;
    expect(d.status).toMatchObject({
      updatedReplicas: 3,
      availableReplicas: 3,
      observedGeneration: 2,
    });
  });

  it('a paused Deployment records DeploymentPaused and starts no rollout until resumed', () => {
    running = simulate({ podReadySeconds: 1 });
    const { clock, store } = running;
    store.create('deployments.apps', fromCapture('deployment-rollout.json').object);
    clock.runFor(10_000);
    update(store, (d) => {
      d.spec.paused = true;
      setImage('nginx:1.26')(d);
    });
    clock.runFor(10_000);
    const paused = store.get('deployments.apps', 'ref', 'web') as Deployment;
    expect(replicaSets(store)).toHaveLength(1);
    expect(paused.status?.conditions?.find((c) => c.type === 'Progressing')).toMatchObject({
      status: 'Unknown',
      reason: 'DeploymentPaused',
    });
    update(store, (d) => {
      d.spec.paused = false;
    });
    clock.runFor(20_000);
    const resumed = store.get('deployments.apps', 'ref', 'web') as Deployment;
    expect(replicaSets(store)).toHaveLength(2);
    expect(resumed.status?.conditions?.find((c) => c.type === 'Progressing')?.reason).toBe(
      'NewReplicaSetAvailable',
    );
  });

  it('kubectl scale on a finished Deployment scales its ReplicaSet, as a scaling event', () => {
    running = simulate({ podReadySeconds: 1 });
    const { clock, store } = running;
    store.create('deployments.apps', fromCapture('deployment-rollout.json').object);
    clock.runFor(10_000);
    update(store, (d) => {
      d.spec.replicas = 5;
    });
    clock.runFor(10_000);
    const [rs] = replicaSets(store);
    expect(rs?.spec.replicas).toBe(5);
    expect(rs?.metadata.annotations?.['deployment.kubernetes.io/desired-replicas']).toBe('5');
    expect(store.list('pods', { namespace: 'ref' })).toHaveLength(5);
    const d = store.get('deployments.apps', 'ref', 'web') as Deployment;
    expect(d.status).toMatchObject({ replicas: 5, availableReplicas: 5, updatedReplicas: 5 });
  });
});
