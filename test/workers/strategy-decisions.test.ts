import { describe, expect, it } from 'vitest';
import { ContainerVersionSpecSchema, type RolloutState } from '../../src/api/container-version.js';
import type { ServiceView, StoredContainerVersion, Workload } from '../../src/workers/ports.js';
import { decideRollout } from '../../src/workers/rollout-decision.js';
import type { RolloutFacts } from '../../src/workers/rollout-facts.js';
import { canaryReplicas } from '../../src/workers/strategies/canary.js';

// The BlueGreen and Canary decisions and the request annotation, as pure functions.

const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;
const NOW = new Date('2026-12-01T10:00:00Z');

const spec = (strategy: object, extra: object = {}) =>
  ContainerVersionSpecSchema.parse({
    imageRepo: 'ghcr.io/acme/web',
    tag: 'prod',
    selector: { app: 'web' },
    container: 'api',
    strategy,
    ...extra,
  });

const cv = (
  status: StoredContainerVersion['status'] = {},
  annotations: Record<string, string> = {},
): StoredContainerVersion => ({
  apiVersion: 'cvm.dev/v1',
  kind: 'ContainerVersion',
  metadata: {
    name: 'web',
    namespace: 'shop',
    uid: 'u',
    generation: 1,
    resourceVersion: '1',
    annotations,
  },
  spec: {},
  status,
});

const workload = (name: string, labels: Record<string, string>, replicas = 2): Workload => ({
  kind: 'Deployment',
  namespace: 'shop',
  name,
  uid: name,
  generation: 1,
  annotations: {},
  containers: [{ name: 'api', image: `ghcr.io/acme/web:1@${D1}` }],
  initContainers: [],
  object: { metadata: { labels }, spec: { replicas } },
});

const svc = (name: string, selector: Record<string, string>): ServiceView => ({
  namespace: 'shop',
  name,
  type: 'ClusterIP',
  selector,
});

const facts = (f: Partial<RolloutFacts> & Pick<RolloutFacts, 'cv' | 'spec'>): RolloutFacts => ({
  now: NOW,
  ...f,
});

const BG = { type: 'BlueGreen', blueGreen: { activeService: 'web' } };
const colours = [
  workload('web-blue', { app: 'web', 'cvm.dev/color': 'blue' }),
  workload('web-green', { app: 'web', 'cvm.dev/color': 'green' }, 0),
];

describe('BlueGreen before a rollout starts', () => {
  it.each([
    [
      'the active Service is missing',
      new Map(),
      'strategy.blueGreen.activeService: Service web not found in shop',
    ],
    [
      "the active Service's selector has no colour",
      new Map([['shop/web', svc('web', { app: 'web' })]]),
      "strategy.blueGreen.colorLabel: Service web's selector has no cvm.dev/color",
    ],
    [
      'the active Service selects a colour no workload has',
      new Map([['shop/web', svc('web', { app: 'web', 'cvm.dev/color': 'red' })]]),
      'strategy.blueGreen.colorLabel: no selected workload has cvm.dev/color=red, the colour Service web selects',
    ],
  ])('%s: InvalidSpec naming the field', (_name, services, message) => {
    const action = decideRollout(
      facts({ cv: cv(), spec: spec(BG), resolved: { digest: D2 }, selected: colours, services }),
    );
    expect(action).toMatchObject({
      type: 'done',
      outcome: 'Blocked',
      conditions: expect.arrayContaining([
        expect.objectContaining({ type: 'Ready', status: 'False', reason: 'InvalidSpec', message }),
      ]),
    });
  });

  it('only the live colour counts for drift: the idle colour on an older digest is no drift', () => {
    const action = decideRollout(
      facts({
        cv: cv({
          currentDigest: D1,
          currentVersion: '1',
          currentImage: `ghcr.io/acme/web:1@${D1}`,
        }),
        spec: spec(BG),
        resolved: { digest: D1 },
        selected: [
          colours[0]!,
          { ...colours[1]!, containers: [{ name: 'api', image: `ghcr.io/acme/web:0@${D2}` }] },
        ],
        services: new Map([['shop/web', svc('web', { app: 'web', 'cvm.dev/color': 'blue' })]]),
      }),
    );
    expect(action).toEqual({ type: 'done', outcome: 'Unchanged', conditions: [] });
  });
});

const inFlight = (extra: Partial<RolloutState>): RolloutState => ({
  id: `${D2}@2026-12-01T09:59:00Z`,
  strategy: 'Canary',
  phase: 'Paused',
  step: 2,
  steps: 4,
  digest: D2,
  version: '2',
  image: `ghcr.io/acme/web:2@${D2}`,
  trigger: 'push',
  startedAt: '2026-12-01T09:59:00Z',
  message: '',
  canary: { total: 4, weight: 25, canaryReplicas: 1 },
  ...extra,
});

const CANARY = {
  type: 'Canary',
  canary: { steps: [{ setWeight: 25 }, { pause: {} }, { setWeight: 50 }] },
};

describe('the cvm.dev/request annotation', () => {
  it.each([
    [
      'promote on a paused canary skips the remaining steps',
      'promote',
      inFlight({}),
      { result: 'Applied', to: { phase: 'Patching', step: 4 } },
    ],
    [
      'resume on a paused canary goes on to the next step',
      'resume:2',
      inFlight({}),
      { result: 'Applied', to: { phase: 'Patching', step: 3 } },
    ],
    [
      'abort rolls back',
      'abort',
      inFlight({}),
      { result: 'Applied', to: { phase: 'RollingBack', reason: 'RolloutAborted' } },
    ],
    [
      'resume while not paused is refused',
      'resume',
      inFlight({ phase: 'Waiting' }),
      { result: 'Refused', message: 'the rollout is Waiting; resume applies while it is Paused' },
    ],
    [
      'promote on a Rolling rollout is refused',
      'promote',
      inFlight({ strategy: 'Rolling', phase: 'Waiting' }),
      {
        result: 'Refused',
        message: 'a Rolling rollout has no steps to promote; only abort applies',
      },
    ],
    [
      'an unknown request is refused, naming the annotation',
      'launch',
      inFlight({}),
      {
        result: 'Refused',
        message: expect.stringContaining(
          'metadata.annotations[cvm.dev/request]: unknown request launch',
        ),
      },
    ],
  ])('%s', (_name, value, rollout, expected) => {
    const action = decideRollout(
      facts({ cv: cv({ rollout }, { 'cvm.dev/request': value }), spec: spec(CANARY) }),
    );
    expect(action).toMatchObject({ type: 'request', value, ...expected });
  });

  it('a request already handled (the same value in status.lastRequest) is not handled again', () => {
    const action = decideRollout(
      facts({
        cv: cv(
          {
            rollout: inFlight({}),
            lastRequest: {
              value: 'promote',
              action: 'promote',
              at: '2026-12-01T09:59:30Z',
              result: 'Applied',
              message: '',
            },
          },
          { 'cvm.dev/request': 'promote' },
        ),
        spec: spec(CANARY),
      }),
    );
    expect(action.type).not.toBe('request');
  });

  it('retry forgets the failed digest of the last rollout; with nothing failed it is refused', () => {
    const failed = {
      failedDigests: [D2],
      lastRollout: {
        version: '2',
        digest: D2,
        startedAt: '2026-12-01T09:00:00Z',
        result: 'RolledBack' as const,
        message: '',
      },
    };
    expect(
      decideRollout(facts({ cv: cv(failed, { 'cvm.dev/request': 'retry' }), spec: spec(CANARY) })),
    ).toMatchObject({ type: 'request', result: 'Applied', forget: D2 });
    expect(
      decideRollout(facts({ cv: cv({}, { 'cvm.dev/request': 'retry' }), spec: spec(CANARY) })),
    ).toMatchObject({
      type: 'request',
      result: 'Refused',
      message: 'the last rollout did not fail: nothing to retry',
    });
  });
});

describe('canary replicas', () => {
  it.each([
    [4, 25, 1],
    [4, 10, 1], // rounds to 0: at least one Pod, or nothing is judged
    [10, 33, 3],
    [10, 35, 4],
    [4, 100, 4],
    [0, 50, 0],
  ])('%i replicas at %i%% → %i', (total, weight, expected) => {
    expect(canaryReplicas(total, weight)).toBe(expected);
  });
});

describe('BlueGreen scale-down delay', () => {
  it('counts from the switch to the millisecond: 2 s after a switch at .900 is not reached at +1.2 s', () => {
    const rollout: RolloutState = {
      ...inFlight({ strategy: 'BlueGreen', phase: 'ScalingDown', step: 3, steps: 3 }),
      canary: undefined,
      blueGreen: {
        activeService: 'web',
        liveColor: 'blue',
        newColor: 'green',
        switchedAt: '2026-12-01T09:59:58.900Z',
      },
    };
    const at = (iso: string) =>
      decideRollout(
        facts({
          cv: cv({ rollout }),
          spec: spec({
            type: 'BlueGreen',
            blueGreen: { activeService: 'web', scaleDownDelaySeconds: 2 },
          }),
          now: new Date(iso),
          observed: new Map(),
        }),
      );
    expect(at('2026-12-01T10:00:00.100Z')).toMatchObject({ type: 'wait', reason: 'ScalingDown' });
    expect(at('2026-12-01T10:00:00.950Z')).toMatchObject({
      type: 'promote',
      to: { result: 'Succeeded' },
    });
  });
});

describe('a canary that can still give way', () => {
  const paused = inFlight({});
  it('looks at the tag only when a push (not a recheck) brought the run', () => {
    expect(
      decideRollout(
        facts({ cv: cv({ rollout: paused }), spec: spec(CANARY), observed: new Map() }),
      ),
    ).toMatchObject({ type: 'wait' });
    expect(
      decideRollout(facts({ cv: cv({ rollout: paused }), spec: spec(CANARY), news: true })),
    ).toEqual({ type: 'resolve' });
  });

  it('a newer digest of the tag rolls it back as superseded; the same digest goes on', () => {
    expect(
      decideRollout(
        facts({
          cv: cv({ rollout: paused }),
          spec: spec(CANARY),
          news: true,
          resolved: { digest: D1 },
        }),
      ),
    ).toMatchObject({ type: 'promote', to: { phase: 'RollingBack', reason: 'RolloutSuperseded' } });
    expect(
      decideRollout(
        facts({
          cv: cv({ rollout: paused }),
          spec: spec(CANARY),
          news: true,
          resolved: { digest: D2 },
          observed: new Map(),
        }),
      ),
    ).toMatchObject({ type: 'wait' });
  });
});
