import { afterEach, describe, expect, it } from 'vitest';
import type { Deployment } from './deployment-types.js';
import {
  fromCapture,
  normalize,
  simulate,
  stepsOf,
  withoutAnnotationOnlySteps,
} from './simulation.js';

let running: ReturnType<typeof simulate> | undefined;
afterEach(() => running?.controllers.stop());

function setImage(store: ReturnType<typeof simulate>['store'], name: string, image: string) {
  const current = store.get('deployments.apps', 'ref', name) as Deployment;
  const spec = structuredClone(current.spec);
  const container = spec.template?.spec?.containers?.[0];
  if (container) container.image = image;
  store.update('deployments.apps', { ...current, spec });
}

function progressing(store: ReturnType<typeof simulate>['store'], name: string) {
  const d = store.get('deployments.apps', 'ref', name) as Deployment;
  return d.status?.conditions?.find((c) => c.type === 'Progressing');
}

describe('Deployment controller against deployment-deadline.json', () => {
  it('reports the captured sequence up to Progressing=False, ProgressDeadlineExceeded', () => {
    running = simulate({ podReadySeconds: 1 });
    const { clock, store, events } = running;
    const { capture, object } = fromCapture('deployment-deadline.json');
    store.create('deployments.apps', object);
    clock.runFor(20_000);
    setImage(store, 'stuck', 'nginx:never-ready');
    clock.runFor(30_000);
    const ours = withoutAnnotationOnlySteps(stepsOf(events, 'deployments.apps', 'stuck'));
    expect(normalize(ours, 'stuck')).toEqual(normalize(capture.sequence, 'stuck'));
  });

  it('times out only after progressDeadlineSeconds without progress, and stays timed out', () => {
    running = simulate({ podReadySeconds: 1 });
    const { clock, store } = running;
    const { object } = fromCapture('deployment-deadline.json');
    store.create('deployments.apps', object);
    clock.runFor(20_000);
    setImage(store, 'stuck', 'nginx:never-ready');
    clock.runFor(1_000);
    const lastProgress = Date.parse(progressing(store, 'stuck')?.lastUpdateTime ?? '');
    expect(progressing(store, 'stuck')?.reason).toBe('ReplicaSetUpdated');
    clock.runFor(lastProgress + 8_000 - clock.now());
    expect(progressing(store, 'stuck')?.reason).toBe('ReplicaSetUpdated');
    clock.runFor(2_000);
    const timedOut = progressing(store, 'stuck');
    expect(timedOut).toMatchObject({ status: 'False', reason: 'ProgressDeadlineExceeded' });
    expect(Date.parse(timedOut?.lastTransitionTime ?? '')).toBeGreaterThan(lastProgress + 8_000);
    clock.runFor(60_000);
    expect(progressing(store, 'stuck')).toEqual(timedOut);
    const pods = store.list('pods', { namespace: 'ref' });
    const stuck = pods.find((p) => p.spec?.containers?.[0]?.image === 'nginx:never-ready');
    expect(stuck?.status).toMatchObject({
      phase: 'Running',
      conditions: expect.arrayContaining([
        expect.objectContaining({ type: 'Ready', status: 'False', reason: 'ContainersNotReady' }),
      ]) as unknown,
    });
  });
});
