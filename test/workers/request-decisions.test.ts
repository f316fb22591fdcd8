import { describe, expect, it } from 'vitest';
import { ContainerVersionSpecSchema, type RolloutState } from '../../src/api/container-version.js';
import type { StoredContainerVersion, Workload } from '../../src/workers/ports.js';
import { decideRollout, requestRefusal } from '../../src/workers/rollout-decision.js';

// The sync and rollback requests (the `cvm.dev/request` annotation), as pure decisions.

const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;
const D3 = `sha256:${'3'.repeat(64)}`;
const NOW = new Date('2026-12-01T10:00:00Z');
const SPEC = ContainerVersionSpecSchema.parse({
  imageRepo: 'ghcr.io/acme/web',
  tag: 'prod',
  selector: { app: 'web' },
  container: 'api',
});

const cv = (
  request: string,
  status: StoredContainerVersion['status'] = {},
): StoredContainerVersion => ({
  apiVersion: 'cvm.dev/v1',
  kind: 'ContainerVersion',
  metadata: {
    name: 'web',
    namespace: 'shop',
    uid: 'u',
    generation: 1,
    resourceVersion: '1',
    annotations: { 'cvm.dev/request': request },
  },
  spec: {},
  status,
});

const running = (digest: string): Workload => ({
  kind: 'Deployment',
  namespace: 'shop',
  name: 'web',
  uid: 'w',
  generation: 1,
  annotations: {},
  containers: [{ name: 'api', image: `ghcr.io/acme/web:x@${digest}` }],
  initContainers: [],
  object: { metadata: { labels: { app: 'web' } }, spec: { replicas: 2 } },
});

const AT_D2 = { currentDigest: D2, currentVersion: '2', currentImage: `ghcr.io/acme/web:2@${D2}` };

const inFlight: RolloutState = {
  id: `${D3}@2026-12-01T09:59:00Z`,
  strategy: 'Rolling',
  phase: 'Waiting',
  step: 1,
  steps: 1,
  digest: D3,
  version: '3',
  image: `ghcr.io/acme/web:3@${D3}`,
  trigger: 'push',
  startedAt: '2026-12-01T09:59:00Z',
  message: '',
};

const decide = (
  request: string,
  status: StoredContainerVersion['status'],
  read: { tag?: string; runs?: string } = {},
) =>
  decideRollout({
    cv: cv(request, status),
    spec: SPEC,
    now: NOW,
    ...(read.tag ? { resolved: { digest: read.tag } } : {}),
    ...(read.runs ? { selected: [running(read.runs)] } : {}),
  });

describe('a rollback request', () => {
  it('first reads the tag and the workloads, then starts a rollout of the digest and holds back what runs and what the tag names', () => {
    expect(decide(`rollback:${D1}`, AT_D2)).toEqual({ type: 'resolve' });
    expect(decide(`rollback:${D1}:2026-12-01T10:00:00Z`, AT_D2, { tag: D3, runs: D2 })).toEqual({
      type: 'validate',
      digest: D1,
      heal: false,
      rollback: {
        value: `rollback:${D1}:2026-12-01T10:00:00Z`,
        action: 'rollback',
        hold: [D2, D3],
      },
    });
  });

  it.each([
    [
      'without a digest',
      'rollback',
      AT_D2,
      'rollback needs a digest: rollback:sha256:<64 hex digits>',
    ],
    ['with a malformed digest', 'rollback:sha256:abc', AT_D2, 'rollback needs a digest'],
    [
      'while a rollout is in flight',
      `rollback:${D1}`,
      { ...AT_D2, rollout: inFlight },
      'a rollout of 3 is in flight; abort it first',
    ],
    [
      'to a digest that failed before',
      `rollback:${D1}`,
      { ...AT_D2, failedDigests: [D1] },
      `${D1} failed before; force-rollback rolls it out anyway`,
    ],
  ])('is refused %s, saying why', (_name, value, status, message) => {
    expect(decide(value, status, { tag: D2, runs: D2 })).toMatchObject({
      type: 'request',
      result: 'Refused',
      message: expect.stringContaining(message),
    });
  });

  it('is refused when the workloads run the digest already', () => {
    expect(decide(`rollback:${D2}`, AT_D2, { tag: D2, runs: D2 })).toMatchObject({
      type: 'request',
      result: 'Refused',
      message: `the workloads run ${D2} already`,
    });
  });

  it('force-rollback forgets the failed digest it rolls out; digests already failed are not held twice', () => {
    const status = { ...AT_D2, failedDigests: [D1, D3] };
    expect(decide(`force-rollback:${D1}`, status, { tag: D3, runs: D2 })).toMatchObject({
      type: 'validate',
      digest: D1,
      rollback: { action: 'force-rollback', hold: [D2], forget: D1 },
    });
  });
});

describe('a sync request', () => {
  it('is applied, and says what it checks', () => {
    expect(decide('sync:1', AT_D2)).toMatchObject({
      type: 'request',
      result: 'Applied',
      message: 'checking ghcr.io/acme/web:prod now',
    });
  });

  it('during a rollout says the tag is checked when the rollout ends', () => {
    expect(decide('sync:1', { ...AT_D2, rollout: inFlight })).toMatchObject({
      result: 'Applied',
      message: 'a rollout of 3 is in flight; the tag is checked again when it ends',
    });
  });
});

describe('requestRefusal (what the REST API answers 409 with)', () => {
  const plain = (status: StoredContainerVersion['status']) => ({ ...cv('', status) });
  it.each([
    ['promote without a rollout', 'promote', AT_D2, 'no rollout is in flight to promote'],
    [
      'promote on a Rolling rollout',
      'promote',
      { ...AT_D2, rollout: inFlight },
      'a Rolling rollout has no steps to promote; only abort applies',
    ],
    [
      'retry when nothing failed',
      'retry',
      AT_D2,
      'the last rollout did not fail: nothing to retry',
    ],
    ['a rollback to a failed digest', `rollback:${D1}`, { failedDigests: [D1] }, 'failed before'],
  ])('%s', (_name, value, status, message) => {
    expect(requestRefusal(plain(status), SPEC, value, NOW)).toContain(message);
  });

  it.each([
    ['abort of a rollout in flight', 'abort', { ...AT_D2, rollout: inFlight }],
    ['a rollback (judged again when handled)', `rollback:${D1}`, AT_D2],
    ['a sync', 'sync:1', AT_D2],
  ])('%s may be applied', (_name, value, status) => {
    expect(requestRefusal(plain(status), SPEC, value, NOW)).toBeUndefined();
  });

  it('the same value as the last request handled is judged afresh, not ignored', () => {
    const status = {
      ...AT_D2,
      lastRequest: {
        value: 'promote',
        action: 'promote',
        at: '2026-12-01T09:00:00Z',
        result: 'Applied' as const,
        message: '',
      },
    };
    expect(requestRefusal(plain(status), SPEC, 'promote', NOW)).toBe(
      'no rollout is in flight to promote',
    );
  });
});
