import { describe, expect, it } from 'vitest';
import type { CliContainerVersion } from '../../src/cli/cv-access.js';
import { rollbackTarget } from '../../src/cli/cv-commands.js';
import { parseCvRef, parseDurationMs } from '../../src/cli/cv-target.js';
import {
  judgeWait,
  progressLine,
  settledVerdict,
  type WaitTarget,
} from '../../src/cli/wait-judgement.js';
import type { HistoryEntry } from '../../src/workers/ports.js';

const A = `sha256:${'a'.repeat(64)}`;
const B = `sha256:${'b'.repeat(64)}`;

function cv(
  status: Record<string, unknown>,
  spec: Record<string, unknown> = {},
): CliContainerVersion {
  return {
    apiVersion: 'cvm.dev/v1',
    kind: 'ContainerVersion',
    metadata: { name: 'api', namespace: 'shop' },
    spec: { tag: 'prod', ...spec },
    status: status,
  };
}

const rollout = (digest: string, version: string, extra: Record<string, unknown> = {}) => ({
  id: `${digest}@t`,
  strategy: 'Rolling',
  phase: 'Waiting',
  step: 1,
  steps: 1,
  digest,
  version,
  image: `r:${version}@${digest}`,
  trigger: 'push',
  startedAt: 't',
  message: `rolling out ${version}`,
  ...extra,
});
const last = (digest: string, version: string, result: string) => ({
  digest,
  version,
  result,
  startedAt: 't',
  message: `${result} because`,
});

describe('judgeWait', () => {
  const byDigest: WaitTarget = { digest: B };
  const byVersion: WaitTarget = { version: 'v2' };
  it.each([
    ['nothing started yet', {}, byDigest, 'waiting'],
    ['its rollout in flight', { rollout: rollout(B, 'v2') }, byVersion, 'waiting'],
    [
      'running it, nothing in flight',
      { currentDigest: B, currentVersion: 'v2' },
      byDigest,
      'succeeded',
    ],
    ['running it by version', { currentDigest: B, currentVersion: 'v2' }, byVersion, 'succeeded'],
    [
      'running it while another replaces it',
      { currentDigest: B, rollout: rollout(A, 'v1') },
      byDigest,
      'failed',
    ],
    ['known bad', { currentDigest: A, failedDigests: [B] }, byDigest, 'failed'],
    [
      'rolled back and held',
      { currentDigest: A, failedDigests: [B], lastRollout: last(B, 'v2', 'RolledBack') },
      byVersion,
      'failed',
    ],
    [
      'refused by policy (recorded Failed)',
      { failedDigests: [B], lastRollout: last(B, 'v2', 'Failed') },
      byDigest,
      'failed',
    ],
    [
      'a stale failure after a retry forgot the digest',
      { currentDigest: A, lastRollout: last(B, 'v2', 'RolledBack') },
      byDigest,
      'waiting',
    ],
    [
      'a retry of a known-bad digest in flight',
      { failedDigests: [], rollout: rollout(B, 'v2') },
      byDigest,
      'waiting',
    ],
    [
      'superseded',
      { currentDigest: A, lastRollout: last(B, 'v2', 'Superseded') },
      byDigest,
      'failed',
    ],
  ])('%s', (_name, status, target, state) => {
    expect(judgeWait(cv(status), target).state).toBe(state);
  });

  it('a deleted CV fails the wait', () => {
    expect(judgeWait(null, { digest: B })).toEqual({
      state: 'failed',
      message: 'the ContainerVersion was deleted',
    });
  });

  it('without a target and nothing in flight: Ready decides', () => {
    const ready = {
      type: 'Ready',
      status: 'True',
      reason: 'RolloutSucceeded',
      message: '',
      lastTransitionTime: 't',
    };
    expect(settledVerdict(cv({ currentVersion: 'v1', conditions: [ready] })).state).toBe(
      'succeeded',
    );
    expect(
      settledVerdict(cv({ conditions: [{ ...ready, status: 'False', reason: 'RolledBack' }] })),
    ).toEqual({
      state: 'failed',
      message: 'no rollout in flight and not ready: RolledBack: ',
    });
  });
});

describe('progressLine', () => {
  it('says strategy, step n/N, phase, canary share and replicas', () => {
    const line = progressLine(
      cv({
        rollout: rollout(B, 'v2', {
          strategy: 'Canary',
          step: 2,
          steps: 5,
          phase: 'Paused',
          canary: { total: 4, weight: 50, canaryReplicas: 2 },
        }),
      }),
      { digest: B },
      [{ kind: 'Deployment', name: 'web-canary', desired: 2, updated: 2, ready: 1 }],
    );
    expect(line).toBe(
      'Canary rollout of v2: step 2/5 Paused; canary 2/4 replicas (50%); deployment/web-canary 2/2 updated, 1/2 ready; rolling out v2',
    );
  });
  it('before a rollout: what it waits for, and why (Progressing), and suspension', () => {
    const progressing = {
      type: 'Progressing',
      status: 'False',
      reason: 'ImageTooNew',
      message: 'waits 60s',
      lastTransitionTime: 't',
    };
    expect(
      progressLine(cv({ conditions: [progressing] }, { suspend: true }), { version: 'v2' }),
    ).toBe(
      'waiting for cvm to roll out version v2 (ImageTooNew: waits 60s) (suspended: spec.suspend is true)',
    );
  });
});

describe('rollbackTarget and argument parsing', () => {
  const entry = (
    version: string,
    digest: string,
    result: HistoryEntry['result'],
  ): HistoryEntry => ({
    id: `${digest}@${version}`,
    version,
    digest,
    image: '',
    startedAt: 't',
    finishedAt: 't',
    result,
    message: '',
    trigger: 'push',
    workloads: [],
  });
  const history = [
    entry('v3', B, 'Succeeded'),
    entry('v2', A, 'RolledBack'),
    entry('v2', A, 'Succeeded'),
    entry('v1', B, 'Succeeded'),
  ];
  it('without --to: the newest Succeeded entry not running now', () => {
    expect(rollbackTarget(history, B, undefined, 'shop/api')).toBe(history[2]);
  });
  it('--to a version prefers its Succeeded entry; --to a digest works; unknown exits 2', () => {
    expect(rollbackTarget(history, B, 'v2', 'shop/api')).toBe(history[2]);
    expect(rollbackTarget(history, B, A, 'shop/api').digest).toBe(A);
    expect(() => rollbackTarget(history, B, 'v9', 'shop/api')).toThrow(
      '--to: no version v9 in the history of shop/api',
    );
    expect(() => rollbackTarget([history[0]!], B, undefined, 'shop/api')).toThrow(
      /no earlier Succeeded version/,
    );
  });
  it.each([
    ['90', 90_000],
    ['90s', 90_000],
    ['10m', 600_000],
    ['1h', 3_600_000],
    ['500ms', 500],
  ])('--timeout %s is %d ms', (text, ms) => expect(parseDurationMs(text, '--timeout')).toBe(ms));
  it.each(['0', '10x', '-1m', '25h', ''])('--timeout %j exits 2', (text) =>
    expect(() => parseDurationMs(text, '--timeout')).toThrow(/--timeout must be a duration/),
  );
  it.each(['shop', 'shop/api/x', 'Shop/api', 'shop/-api', '/api'])(
    '%j is not namespace/name',
    (ref) => expect(() => parseCvRef(ref)).toThrow(),
  );
});
