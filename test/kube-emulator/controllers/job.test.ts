import { afterEach, describe, expect, it } from 'vitest';
import type { KubeObject } from '../contract.js';
import type { Job } from './job-planner.js';
import { simulate } from './simulation.js';

let running: ReturnType<typeof simulate> | undefined;
afterEach(() => running?.controllers.stop());

function job(name: string, image: string, extra: Partial<Job['spec']> = {}, annotations = {}) {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: 'ref', annotations },
    spec: {
      template: {
        metadata: { labels: { app: name } },
        spec: { restartPolicy: 'Never', containers: [{ name: 'main', image }] },
      },
      ...extra,
    },
  } as KubeObject;
}

const reasons = (sim: ReturnType<typeof simulate>, name: string) =>
  sim.events
    .filter((e) => e.resource === 'events' && e.type === 'ADDED')
    .map((e) => e.object as KubeObject & { involvedObject: { name: string }; reason: string })
    .filter((e) => e.involvedObject.name === name)
    .map((e) => e.reason);

describe('Job controller', () => {
  it('completes when its Pods succeed: succeeded, completionTime, condition Complete', () => {
    running = simulate({ podReadySeconds: 2 });
    const { clock, store } = running;
    store.create('jobs.batch', job('migrate', 'busybox:1.36', { completions: 3, parallelism: 2 }));
    clock.runFor(1_000);
    expect((store.get('jobs.batch', 'ref', 'migrate') as Job).status).toMatchObject({ active: 2 });
    clock.runFor(20_000);
    const done = store.get('jobs.batch', 'ref', 'migrate') as Job;
    expect(done.status).toMatchObject({
      succeeded: 3,
      conditions: [{ type: 'Complete', status: 'True' }],
    });
    expect(done.status?.active).toBeUndefined();
    expect(Date.parse(done.status?.completionTime ?? '')).toBeGreaterThan(
      Date.parse(done.status?.startTime ?? ''),
    );
    expect(reasons(running, 'migrate')).toEqual([
      'SuccessfulCreate',
      'SuccessfulCreate',
      'SuccessfulCreate',
      'Completed',
    ]);
  });

  it('fails with BackoffLimitExceeded when its image is never ready', () => {
    running = simulate({ podReadySeconds: 1, neverReady: 'broken' });
    const { clock, store } = running;
    store.create('jobs.batch', job('verify', 'tool:broken', { backoffLimit: 2 }));
    clock.runFor(30_000);
    const failed = store.get('jobs.batch', 'ref', 'verify') as Job;
    expect(failed.status).toMatchObject({
      failed: 3,
      conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded' }],
    });
    expect(failed.status?.succeeded).toBeUndefined();
    expect(reasons(running, 'verify').at(-1)).toBe('BackoffLimitExceeded');
  });

  it('fails when annotated cvm.dev/emulator-fail, whatever the image', () => {
    running = simulate({ podReadySeconds: 1 });
    const { clock, store } = running;
    const annotations = { 'cvm.dev/emulator-fail': 'true' };
    store.create('jobs.batch', job('flaky', 'busybox:1.36', { backoffLimit: 0 }, annotations));
    clock.runFor(10_000);
    const failed = store.get('jobs.batch', 'ref', 'flaky') as Job;
    expect(failed.status).toMatchObject({ failed: 1, conditions: [{ type: 'Failed' }] });
  });
});
