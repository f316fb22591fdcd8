import { afterEach, describe, expect, it } from 'vitest';
import type { KubeObject } from '../contract.js';
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
  const current = store.get('deployments.apps', 'ref', name) as KubeObject;
  const spec = structuredClone(current.spec) as {
    template: { spec: { containers: { image: string }[] } };
  };
  const container = spec.template.spec.containers[0];
  if (container) container.image = image;
  store.update('deployments.apps', { ...current, spec });
}

describe('Deployment controller against deployment-rollout.json', () => {
  it('reports the captured statuses and conditions, surge by surge, in order', () => {
    running = simulate({ podReadySeconds: 1 });
    const { clock, store, events } = running;
    const { capture, object } = fromCapture('deployment-rollout.json');
    store.create('deployments.apps', object);
    clock.runFor(12_000);
    setImage(store, 'web', 'nginx:1.26');
    clock.runFor(30_000);
    const ours = withoutAnnotationOnlySteps(stepsOf(events, 'deployments.apps', 'web'));
    expect(normalize(ours, 'web')).toEqual(normalize(capture.sequence, 'web'));
  });
});
