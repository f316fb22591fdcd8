import { describe, expect, it } from 'vitest';
import { fromCapture, simulate } from './simulation.js';

describe('controller lifecycle', () => {
  it('goes quiet once a rollout settled: no write without a change', () => {
    const sim = simulate({ podReadySeconds: 1 });
    sim.store.create('deployments.apps', fromCapture('deployment-rollout.json').object);
    sim.clock.runFor(30_000);
    const settled = sim.events.length;
    sim.clock.runFor(600_000);
    expect(sim.events.length).toBe(settled);
    sim.controllers.stop();
  });

  it('stop() cancels every timer and unsubscribes, and is idempotent', () => {
    const sim = simulate({ podReadySeconds: 30 });
    sim.store.create('deployments.apps', fromCapture('deployment-rollout.json').object);
    sim.clock.runFor(1_000);
    expect(sim.clock.pending()).toBeGreaterThan(0);
    sim.controllers.stop();
    sim.controllers.stop();
    expect(sim.clock.pending()).toBe(0);
    const before = sim.events.length;
    sim.store.create('deployments.apps', {
      ...fromCapture('deployment-deadline.json').object,
    });
    sim.clock.runFor(60_000);
    expect(sim.events.length).toBe(before + 1);
    expect(sim.store.list('replicasets.apps', { namespace: 'ref' })).toHaveLength(1);
  });
});
