import { describe, expect, it } from 'vitest';
import { ContainerVersionSpecSchema, type RolloutState } from '../../src/api/container-version.js';
import type { StoredContainerVersion, VerifyJobState, Workload } from '../../src/workers/ports.js';
import { rollingStrategy } from '../../src/workers/strategies/rolling.js';
import { decideRollout } from '../../src/workers/rollout-decision.js';
import type { RolloutFacts } from '../../src/workers/rollout-facts.js';
import { rolloutRecord } from '../../src/workers/rollout-record.js';

const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;
const D3 = `sha256:${'3'.repeat(64)}`;
const REPO = 'ghcr.io/acme/api';
const NOW = new Date('2026-12-01T10:00:00Z');
const at = (seconds: number) => new Date(NOW.getTime() + seconds * 1000);

const spec = (extra: Record<string, unknown> = {}) =>
  ContainerVersionSpecSchema.parse({
    imageRepo: REPO,
    tag: 'prod',
    selector: { app: 'api' },
    container: 'api',
    ...extra,
  });

const cv = (status: StoredContainerVersion['status'] = {}): StoredContainerVersion => ({
  apiVersion: 'cvm.dev/v1',
  kind: 'ContainerVersion',
  metadata: { name: 'api', namespace: 'shop', uid: 'u1', generation: 3, resourceVersion: '9' },
  spec: {},
  status,
});

/** A Deployment whose `api` container runs `digest`, with the given status. */
const deployment = (digest: string | undefined, status: object = {}, generation = 2): Workload => ({
  kind: 'Deployment',
  namespace: 'shop',
  name: 'api',
  uid: 'w1',
  generation,
  annotations: {},
  containers: [{ name: 'api', image: digest ? `${REPO}:x@${digest}` : 'example.com/old/api:1' }],
  initContainers: [],
  object: { metadata: { name: 'api', generation }, spec: { replicas: 2 }, status },
});
const rolledOut = { observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 2 };
const halfway = { observedGeneration: 2, replicas: 3, updatedReplicas: 1, availableReplicas: 1 };

const rollout = (extra: Partial<RolloutState> = {}): RolloutState => ({
  id: `${D2}@2026-12-01T09:59:00Z`,
  strategy: 'Rolling',
  phase: 'Waiting',
  step: 1,
  steps: 1,
  digest: D2,
  version: 'v2',
  image: `${REPO}:v2@${D2}`,
  trigger: 'push',
  startedAt: '2026-12-01T09:59:00Z',
  progressDeadlineAt: '2026-12-01T10:09:00Z',
  workloads: [
    { kind: 'Deployment', name: 'api', previousImage: `${REPO}:v1@${D1}`, generation: 2 },
  ],
  message: '',
  ...extra,
});

const facts = (f: Partial<RolloutFacts> & { cv: StoredContainerVersion }): RolloutFacts => ({
  spec: spec(),
  now: NOW,
  ...f,
});
const observed = (w: Workload | null) => new Map([['Deployment/api', w]]);
const jobs = (state: VerifyJobState) => new Map([['api-verify-smoke-1', state]]);
const current = { currentDigest: D1, currentVersion: 'v1', currentImage: `${REPO}:v1@${D1}` };

describe('decideRollout without a rollout in flight: whether one starts', () => {
  it.each<[string, RolloutFacts, object]>([
    ['nothing read yet: resolve', facts({ cv: cv() }), { type: 'resolve' }],
    [
      'the tag does not exist: blocked, retried',
      facts({ cv: cv(), resolved: null, selected: [deployment(D1)] }),
      { type: 'done', outcome: 'Blocked', retry: `tag prod not found in ${REPO}` },
    ],
    [
      'no workload matches the selector',
      facts({ cv: cv(), resolved: { digest: D2 }, selected: [] }),
      {
        type: 'done',
        outcome: 'Blocked',
        conditions: expect.arrayContaining([
          expect.objectContaining({ reason: 'NoMatchingWorkloads' }),
        ]),
      },
    ],
    [
      'no selected workload has the container',
      facts({
        cv: cv(),
        spec: spec({ container: 'web' }),
        resolved: { digest: D2 },
        selected: [deployment(D1)],
      }),
      {
        type: 'done',
        outcome: 'Blocked',
        conditions: expect.arrayContaining([
          expect.objectContaining({ reason: 'ContainerNotFound' }),
        ]),
      },
    ],
    [
      'a new digest: validate it',
      facts({ cv: cv(current), resolved: { digest: D2 }, selected: [deployment(D1)] }),
      { type: 'validate', digest: D2, heal: false },
    ],
    [
      'the current digest everywhere: unchanged',
      facts({ cv: cv(current), resolved: { digest: D1 }, selected: [deployment(D1)] }),
      { type: 'done', outcome: 'Unchanged', conditions: [] },
    ],
    [
      'the current digest, a workload changed by hand: heal back to it',
      facts({ cv: cv(current), resolved: { digest: D1 }, selected: [deployment(D3)] }),
      { type: 'validate', digest: D1, heal: true },
    ],
    [
      'the tag on a failed digest, workloads at the current one: held, says why',
      facts({
        cv: cv({ ...current, failedDigests: [D2] }),
        resolved: { digest: D2 },
        selected: [deployment(D1)],
      }),
      {
        type: 'done',
        outcome: 'Blocked',
        conditions: [
          expect.objectContaining({
            type: 'Progressing',
            status: 'False',
            reason: 'KnownBadDigest',
            message: expect.stringContaining('stay at v1'),
          }),
        ],
      },
    ],
    [
      'the tag on a failed digest, a workload changed by hand: reverted to the current digest',
      facts({
        cv: cv({ ...current, failedDigests: [D2] }),
        resolved: { digest: D2 },
        selected: [deployment(D3)],
      }),
      { type: 'validate', digest: D1, heal: true },
    ],
    [
      'the tag on a failed digest and no current one: nothing to revert to',
      facts({
        cv: cv({ failedDigests: [D2] }),
        resolved: { digest: D2 },
        selected: [deployment(undefined)],
      }),
      { type: 'done', outcome: 'Blocked' },
    ],
    [
      'suspended: nothing happens',
      facts({ cv: cv(current), spec: spec({ suspend: true }) }),
      {
        type: 'done',
        outcome: 'Suspended',
        conditions: [expect.objectContaining({ type: 'Suspended', status: 'True' })],
      },
    ],
  ])('%s', (_name, input, expected) => {
    expect(decideRollout(input)).toMatchObject(expected);
  });

  it('a strategy this version does not run (a table without it): refused', () => {
    expect(
      decideRollout(facts({ cv: cv(), spec: spec({ strategy: { type: 'Canary' } }) }), {
        Rolling: rollingStrategy,
      }),
    ).toMatchObject({
      type: 'done',
      outcome: 'Blocked',
      conditions: expect.arrayContaining([expect.objectContaining({ reason: 'InvalidSpec' })]),
    });
  });
});

describe('decideRollout with a Rolling rollout in flight', () => {
  const verifySpec = spec({
    verify: [{ name: 'smoke', command: ['/bin/true'], timeoutSeconds: 60 }],
  });
  const verifying = (extra: Partial<RolloutState> = {}) =>
    rollout({
      phase: 'Verifying',
      steps: 2,
      workloads: [],
      progressDeadlineAt: undefined,
      ...extra,
    });
  const started = [{ name: 'smoke', job: 'api-verify-smoke-1', startedAt: '2026-12-01T09:59:30Z' }];
  it.each<[string, RolloutFacts, object]>([
    [
      'verifying, the tag not read in this run: resolve',
      facts({ cv: cv({ rollout: verifying() }), spec: verifySpec }),
      { type: 'resolve' },
    ],
    [
      'verifying, the tag moved on before anything was patched: superseded',
      facts({ cv: cv({ rollout: verifying() }), spec: verifySpec, resolved: { digest: D3 } }),
      {
        type: 'promote',
        to: { phase: 'Recording', result: 'Superseded', reason: 'RolloutSuperseded' },
      },
    ],
    [
      'verifying, no Job yet: start it',
      facts({ cv: cv({ rollout: verifying() }), spec: verifySpec, resolved: { digest: D2 } }),
      { type: 'verify', checks: ['smoke'] },
    ],
    [
      'verifying, Job started, not read: observe',
      facts({
        cv: cv({ rollout: verifying({ verify: started }) }),
        spec: verifySpec,
        resolved: { digest: D2 },
      }),
      { type: 'observe' },
    ],
    [
      'verifying, Job running: wait until its timeout at the latest',
      facts({
        cv: cv({ rollout: verifying({ verify: started }) }),
        spec: verifySpec,
        resolved: { digest: D2 },
        verifyJobs: jobs({ state: 'running' }),
      }),
      { type: 'wait', reason: 'Verifying', untilMs: Date.parse('2026-12-01T10:00:30Z') },
    ],
    [
      'verifying, Job running past its timeout: failed',
      facts({
        cv: cv({ rollout: verifying({ verify: started }) }),
        spec: verifySpec,
        resolved: { digest: D2 },
        verifyJobs: jobs({ state: 'running' }),
        now: at(31),
      }),
      {
        type: 'promote',
        to: {
          phase: 'Recording',
          result: 'Failed',
          reason: 'VerifyFailed',
          message: 'verify check smoke failed: it did not finish within 60s',
        },
      },
    ],
    [
      'verifying, Job failed: failed with its message',
      facts({
        cv: cv({ rollout: verifying({ verify: started }) }),
        spec: verifySpec,
        resolved: { digest: D2 },
        verifyJobs: jobs({ state: 'failed', message: 'BackoffLimitExceeded' }),
      }),
      {
        type: 'promote',
        to: { result: 'Failed', message: 'verify check smoke failed: BackoffLimitExceeded' },
      },
    ],
    [
      'verifying, Job deleted by someone: failed',
      facts({
        cv: cv({ rollout: verifying({ verify: started }) }),
        spec: verifySpec,
        resolved: { digest: D2 },
        verifyJobs: jobs({ state: 'missing' }),
      }),
      { type: 'promote', to: { result: 'Failed', reason: 'VerifyFailed' } },
    ],
    [
      'verifying, Job complete: on to step 2, patching',
      facts({
        cv: cv({ rollout: verifying({ verify: started }) }),
        spec: verifySpec,
        resolved: { digest: D2 },
        verifyJobs: jobs({ state: 'succeeded' }),
      }),
      {
        type: 'promote',
        to: {
          phase: 'Patching',
          step: 2,
          verify: [expect.objectContaining({ result: 'Succeeded' })],
        },
      },
    ],
    [
      'patching: patch',
      facts({ cv: cv({ rollout: rollout({ phase: 'Patching', workloads: [] }) }) }),
      { type: 'patch' },
    ],
    ['waiting, not read: observe', facts({ cv: cv({ rollout: rollout() }) }), { type: 'observe' }],
    [
      'waiting, a read older than the patch: still waiting, even though it looks rolled out',
      facts({
        cv: cv({ rollout: rollout() }),
        observed: observed(deployment(D1, { ...rolledOut, observedGeneration: 1 }, 1)),
      }),
      { type: 'wait', reason: 'WaitingForRollout', untilMs: Date.parse('2026-12-01T10:09:00Z') },
    ],
    [
      'waiting, pods halfway: wait until the deadline at the latest',
      facts({ cv: cv({ rollout: rollout() }), observed: observed(deployment(D2, halfway)) }),
      {
        type: 'wait',
        message:
          'Waiting for deployment "api" rollout to finish: 1 out of 2 new replicas have been updated...',
      },
    ],
    [
      'waiting, rolled out: record success',
      facts({ cv: cv({ rollout: rollout() }), observed: observed(deployment(D2, rolledOut)) }),
      {
        type: 'promote',
        to: { phase: 'Recording', result: 'Succeeded', message: 'v2 rolled out to deployment/api' },
      },
    ],
    [
      'waiting, the workload was deleted: nothing left to wait for',
      facts({ cv: cv({ rollout: rollout() }), observed: observed(null) }),
      { type: 'promote', to: { result: 'Succeeded' } },
    ],
    [
      'waiting, ProgressDeadlineExceeded from the controller: roll back',
      facts({
        cv: cv({ rollout: rollout() }),
        observed: observed(
          deployment(D2, {
            ...halfway,
            conditions: [
              { type: 'Progressing', reason: 'ProgressDeadlineExceeded', lastUpdateTime: 't2' },
            ],
          }),
        ),
      }),
      {
        type: 'rollback',
        reason: 'ProgressDeadlineExceeded',
        message: 'deployment "api" exceeded its progress deadline',
      },
    ],
    [
      'waiting, a ProgressDeadlineExceeded left from before this rollout: still waiting',
      facts({
        cv: cv({
          rollout: rollout({
            workloads: [
              {
                kind: 'Deployment',
                name: 'api',
                generation: 2,
                progressStamp: 'ProgressDeadlineExceeded@t1',
              },
            ],
          }),
        }),
        observed: observed(
          deployment(D2, {
            ...halfway,
            conditions: [
              { type: 'Progressing', reason: 'ProgressDeadlineExceeded', lastUpdateTime: 't1' },
            ],
          }),
        ),
      }),
      { type: 'wait' },
    ],
    [
      "waiting, past the CV's deadline: roll back",
      facts({
        cv: cv({ rollout: rollout() }),
        observed: observed(deployment(D2, halfway)),
        now: at(600),
      }),
      {
        type: 'rollback',
        message: expect.stringContaining(
          'did not finish rolling out within spec.rollback.progressDeadlineSeconds',
        ),
      },
    ],
    [
      'waiting, past the deadline, rollback disabled: failed',
      facts({
        cv: cv({ rollout: rollout() }),
        spec: spec({ rollback: { enabled: false } }),
        observed: observed(deployment(D2, halfway)),
        now: at(600),
      }),
      {
        type: 'promote',
        to: { phase: 'Recording', result: 'Failed', reason: 'ProgressDeadlineExceeded' },
      },
    ],
    [
      'waiting, past the deadline, no previous image: failed, says so',
      facts({
        cv: cv({
          rollout: rollout({ workloads: [{ kind: 'Deployment', name: 'api', generation: 2 }] }),
        }),
        observed: observed(deployment(D2, halfway)),
        now: at(600),
      }),
      {
        type: 'promote',
        to: {
          result: 'Failed',
          message: expect.stringContaining('no previous image to roll back to'),
        },
      },
    ],
    [
      'rolling back, rolled out: rolled back',
      facts({
        cv: cv({
          rollout: rollout({
            phase: 'RollingBack',
            failure: 'deadline',
            message: 'Waiting for pods',
          }),
        }),
        observed: observed(deployment(D1, rolledOut)),
      }),
      {
        type: 'promote',
        to: {
          phase: 'Recording',
          result: 'RolledBack',
          message: 'deadline; rolled back to the previous image',
        },
      },
    ],
    [
      'rolling back past its deadline: failed, RollbackFailed',
      facts({
        cv: cv({
          rollout: rollout({
            phase: 'RollingBack',
            failure: 'deadline',
            message: 'Waiting for pods',
          }),
        }),
        observed: observed(deployment(D1, halfway)),
        now: at(600),
      }),
      { type: 'promote', to: { result: 'Failed', reason: 'RollbackFailed' } },
    ],
    [
      'recording: record',
      facts({ cv: cv({ rollout: rollout({ phase: 'Recording', result: 'Succeeded' }) }) }),
      { type: 'record' },
    ],
  ])('%s', (_name, input, expected) => {
    expect(decideRollout(input)).toMatchObject(expected);
  });

  it('suspending a CV holds its rollout in flight where it is', () => {
    const held = cv({ rollout: rollout() });
    expect(decideRollout(facts({ cv: held, spec: spec({ suspend: true }) }))).toMatchObject({
      type: 'done',
      outcome: 'Suspended',
    });
  });
});

describe('rolloutRecord: what a finished rollout leaves behind', () => {
  const finished = (result: RolloutState['result'], extra: Partial<RolloutState> = {}) =>
    rolloutRecord(
      cv(current),
      spec(),
      rollout({ phase: 'Recording', result, message: 'm', ...extra }),
      NOW,
    );

  it('a success moves the current version, clears the rollout and writes history with its id', () => {
    const r = finished('Succeeded', { reason: 'RolloutSucceeded' });
    expect(r.fields).toMatchObject({
      currentDigest: D2,
      currentVersion: 'v2',
      currentImage: `${REPO}:v2@${D2}`,
      rollout: null,
    });
    expect(r.fields.lastRollout).toMatchObject({
      result: 'Succeeded',
      finishedAt: '2026-12-01T10:00:00Z',
    });
    expect(r.conditions.map((c) => [c.type, c.status])).toEqual([
      ['Ready', 'True'],
      ['Progressing', 'False'],
      ['Degraded', 'False'],
    ]);
    expect(r.history).toMatchObject({
      id: rollout().id,
      result: 'Succeeded',
      previousImage: `${REPO}:v1@${D1}`,
      workloads: ['Deployment/api'],
    });
  });

  it('a rollback remembers the digest and keeps the current version', () => {
    const r = finished('RolledBack', { reason: 'RolledBack' });
    expect(r.fields.failedDigests).toEqual([D2]);
    expect(r.fields.currentDigest).toBeUndefined();
    expect(r.conditions).toContainEqual(
      expect.objectContaining({ type: 'Degraded', status: 'True', reason: 'RolledBack' }),
    );
    expect(r.history?.result).toBe('RolledBack');
  });

  it('a failed rollback makes the CV not Ready', () => {
    const r = finished('Failed', { reason: 'RollbackFailed' });
    expect(r.conditions).toContainEqual(
      expect.objectContaining({ type: 'Ready', status: 'False', reason: 'RollbackFailed' }),
    );
  });

  it('a superseded rollout that patched nothing leaves no history and no failed digest', () => {
    const r = finished('Superseded', { reason: 'RolloutSuperseded', workloads: [] });
    expect(r.history).toBeUndefined();
    expect(r.fields.failedDigests).toBeUndefined();
    expect(r.conditions).toEqual([
      expect.objectContaining({
        type: 'Progressing',
        status: 'False',
        reason: 'RolloutSuperseded',
      }),
    ]);
  });

  it('a failed revert of drift does not mark the current digest as bad', () => {
    expect(finished('Failed', { heal: true }).fields.failedDigests).toBeUndefined();
  });
});
