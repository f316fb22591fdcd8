import { describe, expect, it } from 'vitest';
import type { ContainerVersionStatus } from '../../src/api/container-version.js';
import { validateSpec } from '../../src/api/validate.js';
import { promotionDue } from '../../src/reconciler/promotion-decision.js';
import type { StoredContainerVersion } from '../../src/workers/ports.js';

const A = `sha256:${'a'.repeat(64)}`;
const B = `sha256:${'b'.repeat(64)}`;
const FINISHED = '2026-12-01T10:00:00.000Z';
const at = (seconds: number) => new Date(Date.parse(FINISHED) + seconds * 1000);

const healthy: ContainerVersionStatus = {
  currentDigest: A,
  currentVersion: 'sha-aaaaaaa',
  lastRollout: {
    version: 'sha-aaaaaaa',
    digest: A,
    startedAt: '2026-12-01T09:59:00.000Z',
    finishedAt: FINISHED,
    result: 'Succeeded',
    message: '',
  },
  conditions: [
    {
      type: 'Ready',
      status: 'True',
      reason: 'RolloutSucceeded',
      message: '',
      lastTransitionTime: FINISHED,
    },
    {
      type: 'Degraded',
      status: 'False',
      reason: 'RolloutSucceeded',
      message: '',
      lastTransitionTime: FINISHED,
    },
  ],
};

function cv(
  status: Partial<ContainerVersionStatus> = {},
  spec: Record<string, unknown> = {},
): StoredContainerVersion {
  return {
    apiVersion: 'cvm.dev/v1',
    kind: 'ContainerVersion',
    metadata: { name: 'api', namespace: 'staging', uid: 'u', generation: 1, resourceVersion: '1' },
    spec: {
      imageRepo: 'registry.example.com/team/api',
      tag: 'staging',
      selector: { app: 'api' },
      container: 'api',
      promotion: { tag: 'prod', afterSeconds: 600 },
      ...spec,
    },
    status: { ...healthy, ...status },
  };
}

const promote = {
  action: 'promote',
  imageRepo: 'registry.example.com/team/api',
  tag: 'prod',
  digest: A,
  version: 'sha-aaaaaaa',
  rolloutStartedAt: '2026-12-01T09:59:00.000Z',
  history: { enabled: true, limit: 50 },
};

describe('promotionDue', () => {
  it.each<[string, StoredContainerVersion, string]>([
    ['no spec.promotion', cv({}, { promotion: undefined }), 'NoPromotion'],
    ['an invalid spec', cv({}, { container: 'Not A Label' }), 'InvalidSpec'],
    ['a suspended CV', cv({}, { suspend: true }), 'Suspended'],
    ['a rollout in flight', cv({ rollout: {} as never }), 'RolloutInFlight'],
    [
      'a failed last rollout',
      cv({ lastRollout: { ...healthy.lastRollout!, result: 'Failed' } }),
      'NoSuccessfulRollout',
    ],
    [
      'a rolled-back last rollout',
      cv({ lastRollout: { ...healthy.lastRollout!, digest: B, result: 'RolledBack' } }),
      'NoSuccessfulRollout',
    ],
    ['a digest no longer current', cv({ currentDigest: B }), 'NotCurrent'],
    ['a digest in failedDigests', cv({ failedDigests: [A] }), 'FailedDigest'],
    [
      'Ready not True',
      cv({ conditions: [{ ...healthy.conditions![0]!, status: 'False' }] }),
      'NotReady',
    ],
    [
      'Degraded True',
      cv({ conditions: [healthy.conditions![0]!, { ...healthy.conditions![1]!, status: 'True' }] }),
      'Degraded',
    ],
    [
      'the digest already promoted to the tag',
      cv({
        lastPromotion: {
          tag: 'prod',
          digest: A,
          version: '',
          at: FINISHED,
          result: 'Promoted',
          message: '',
        },
      }),
      'AlreadyPromoted',
    ],
    [
      'the tag found at the digest already',
      cv({
        lastPromotion: {
          tag: 'prod',
          digest: A,
          version: '',
          at: FINISHED,
          result: 'AlreadyThere',
          message: '',
        },
      }),
      'AlreadyPromoted',
    ],
  ])('nothing for %s', (_name, input, reason) => {
    expect(promotionDue(input, at(86_400))).toEqual({ action: 'none', reason });
  });

  it('waits until afterSeconds after the rollout finished, then promotes', () => {
    expect(promotionDue(cv(), at(599))).toEqual({ action: 'wait', dueAt: at(600) });
    expect(promotionDue(cv(), at(600))).toEqual(promote);
  });

  it('counts from Ready turning True when that came later than the rollout end', () => {
    const later = cv({
      conditions: [{ ...healthy.conditions![0]!, lastTransitionTime: at(100).toISOString() }],
    });
    expect(promotionDue(later, at(650))).toEqual({ action: 'wait', dueAt: at(700) });
  });

  it('afterSeconds 0 promotes at once; the default is 600', () => {
    expect(promotionDue(cv({}, { promotion: { tag: 'prod', afterSeconds: 0 } }), at(0))).toEqual(
      promote,
    );
    expect(promotionDue(cv({}, { promotion: { tag: 'prod' } }), at(1))).toEqual({
      action: 'wait',
      dueAt: at(600),
    });
  });

  it('retries a failed promotion of the same digest retryMs after it; an earlier digest promoted does not block', () => {
    const failed = cv({
      lastPromotion: {
        tag: 'prod',
        digest: A,
        version: '',
        at: at(700).toISOString(),
        result: 'Failed',
        message: '401',
      },
    });
    expect(promotionDue(failed, at(710), 30_000)).toEqual({ action: 'wait', dueAt: at(730) });
    expect(promotionDue(failed, at(730), 30_000)).toEqual(promote);
    const older = cv({
      lastPromotion: {
        tag: 'prod',
        digest: B,
        version: '',
        at: FINISHED,
        result: 'Promoted',
        message: '',
      },
    });
    expect(promotionDue(older, at(600))).toEqual(promote);
  });
});

describe('spec.promotion validation', () => {
  it('names the field: a bad tag, the followed tag itself, a negative soak', () => {
    const base = {
      imageRepo: 'r.example.com/a',
      tag: 'staging',
      selector: { a: 'b' },
      container: 'api',
    };
    const message = (promotion: unknown) => {
      const result = validateSpec({ ...base, promotion });
      return result.ok ? 'ok' : result.message;
    };
    expect(message({ tag: 'pr@d' })).toMatch(
      /^spec\.promotion\.tag: promotion\.tag must be a Docker tag/,
    );
    expect(message({ tag: 'staging' })).toMatch(
      /^spec\.promotion\.tag: promotion\.tag must differ from tag/,
    );
    expect(message({ tag: 'prod', afterSeconds: -1 })).toMatch(/^spec\.promotion\.afterSeconds:/);
    expect(message({ tag: 'prod' })).toBe('ok');
  });
});
