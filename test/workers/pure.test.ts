import { describe, expect, it } from 'vitest';
import {
  checkImageAge,
  checkPlatforms,
  checkRegression,
  checkScan,
} from '../../src/workers/image-policy.js';
import { Annotation, planContainerPatch } from '../../src/workers/plan-container-patch.js';
import type { Workload } from '../../src/workers/ports.js';
import { rolloutStatus } from '../../src/workers/rollout-status.js';
import { nameVersion } from '../../src/workers/version-name.js';

const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;

const workload = (
  kind: Workload['kind'],
  object: any,
  containers = [{ name: 'api', image: `ghcr.io/acme/api:1@${D1}` }],
): Workload => ({
  kind,
  namespace: 'shop',
  name: 'api',
  uid: 'u',
  generation: object.metadata?.generation ?? 1,
  annotations: {},
  containers,
  initContainers: [{ name: 'migrate', image: `ghcr.io/acme/api:1@${D1}` }],
  object: { metadata: { name: 'api', generation: 1 }, ...object },
});

describe('rolloutStatus, as kubectl rollout status decides', () => {
  const deployment = (status: object, generation = 2, spec: object = { replicas: 3 }) =>
    rolloutStatus(workload('Deployment', { metadata: { name: 'api', generation }, spec, status }));
  it.each([
    [
      'spec not observed yet',
      deployment({ observedGeneration: 1 }),
      'progressing',
      'Waiting for deployment spec update to be observed...',
    ],
    [
      'new replicas being updated',
      deployment({ observedGeneration: 2, updatedReplicas: 1, replicas: 3 }),
      'progressing',
      'Waiting for deployment "api" rollout to finish: 1 out of 3 new replicas have been updated...',
    ],
    [
      'old replicas terminating',
      deployment({ observedGeneration: 2, updatedReplicas: 3, replicas: 4 }),
      'progressing',
      'Waiting for deployment "api" rollout to finish: 1 old replicas are pending termination...',
    ],
    [
      'not yet available',
      deployment({ observedGeneration: 2, updatedReplicas: 3, replicas: 3, availableReplicas: 2 }),
      'progressing',
      'Waiting for deployment "api" rollout to finish: 2 of 3 updated replicas are available...',
    ],
    [
      'done',
      deployment({ observedGeneration: 2, updatedReplicas: 3, replicas: 3, availableReplicas: 3 }),
      'done',
      'deployment "api" successfully rolled out',
    ],
    [
      'deadline exceeded',
      deployment({
        observedGeneration: 2,
        updatedReplicas: 1,
        replicas: 4,
        conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }],
      }),
      'failed',
      'deployment "api" exceeded its progress deadline',
    ],
    [
      'replicas defaults to 1',
      deployment(
        { observedGeneration: 2, updatedReplicas: 1, replicas: 1, availableReplicas: 1 },
        2,
        {},
      ),
      'done',
      'deployment "api" successfully rolled out',
    ],
  ])('Deployment: %s', (_name, status, state, message) => {
    expect(status).toMatchObject({ state, message });
  });

  const sts = (spec: object, status: object) =>
    rolloutStatus(
      workload('StatefulSet', { metadata: { name: 'db', generation: 3 }, spec, status }),
    );
  it.each([
    ['OnDelete is not waited for', sts({ updateStrategy: { type: 'OnDelete' } }, {}), 'done'],
    ['not observed', sts({ replicas: 2 }, { observedGeneration: 2 }), 'progressing'],
    [
      'pods not ready',
      sts({ replicas: 2 }, { observedGeneration: 3, readyReplicas: 1 }),
      'progressing',
    ],
    [
      'revisions differ',
      sts(
        { replicas: 2 },
        { observedGeneration: 3, readyReplicas: 2, updateRevision: 'b', currentRevision: 'a' },
      ),
      'progressing',
    ],
    [
      'partition reached',
      sts(
        { replicas: 3, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } },
        { observedGeneration: 3, readyReplicas: 3, updatedReplicas: 1 },
      ),
      'done',
    ],
    [
      'complete',
      sts(
        { replicas: 2 },
        { observedGeneration: 3, readyReplicas: 2, updateRevision: 'b', currentRevision: 'b' },
      ),
      'done',
    ],
  ])('StatefulSet: %s', (_name, status, state) => {
    expect(status.state).toBe(state);
  });

  const ds = (status: object) =>
    rolloutStatus(
      workload('DaemonSet', { metadata: { name: 'agent', generation: 2 }, spec: {}, status }),
    );
  it.each([
    ['not observed', ds({ observedGeneration: 1 }), 'progressing'],
    [
      'updating',
      ds({ observedGeneration: 2, desiredNumberScheduled: 2, updatedNumberScheduled: 1 }),
      'progressing',
    ],
    [
      'not available',
      ds({
        observedGeneration: 2,
        desiredNumberScheduled: 2,
        updatedNumberScheduled: 2,
        numberAvailable: 1,
      }),
      'progressing',
    ],
    [
      'done',
      ds({
        observedGeneration: 2,
        desiredNumberScheduled: 2,
        updatedNumberScheduled: 2,
        numberAvailable: 2,
      }),
      'done',
    ],
  ])('DaemonSet: %s', (_name, status, state) => {
    expect(status.state).toBe(state);
  });

  it('a CronJob has nothing to wait for', () => {
    expect(rolloutStatus(workload('CronJob', {})).state).toBe('done');
  });
});

describe('planContainerPatch', () => {
  const desired = {
    image: `ghcr.io/acme/api:2@${D2}`,
    digest: D2,
    version: '2',
    containerVersion: 'shop/api',
  };

  it('patches only the named container, with the annotations and change-cause', () => {
    const plan = planContainerPatch(workload('Deployment', {}), 'api', desired);
    expect(plan).toEqual({
      action: 'patch',
      previousImage: `ghcr.io/acme/api:1@${D1}`,
      patch: {
        metadata: {
          annotations: {
            [Annotation.ContainerVersion]: 'shop/api',
            [Annotation.Version]: '2',
            [Annotation.Digest]: D2,
            [Annotation.PreviousImage]: `ghcr.io/acme/api:1@${D1}`,
            [Annotation.ChangeCause]: `cvm: shop/api set api=ghcr.io/acme/api:2@${D2}`,
          },
        },
        spec: { template: { spec: { containers: [{ name: 'api', image: desired.image }] } } },
      },
    });
  });

  it('is a no-op when the container already runs the digest', () => {
    expect(
      planContainerPatch(workload('Deployment', {}), 'api', { ...desired, digest: D1 }),
    ).toEqual({ action: 'none', reason: 'already at digest' });
  });

  it('patches an initContainer under initContainers', () => {
    const plan = planContainerPatch(workload('Deployment', {}), 'migrate', desired);
    expect(plan.action === 'patch' && plan.patch).toMatchObject({
      spec: { template: { spec: { initContainers: [{ name: 'migrate' }] } } },
    });
  });

  it("puts a CronJob's container under the job template", () => {
    const plan = planContainerPatch(workload('CronJob', {}), 'api', desired);
    expect(plan.action === 'patch' && plan.patch).toMatchObject({
      spec: { jobTemplate: { spec: { template: { spec: { containers: [{ name: 'api' }] } } } } },
    });
  });

  it('reports a missing container', () => {
    expect(planContainerPatch(workload('Deployment', {}), 'worker', desired)).toEqual({
      action: 'missing-container',
    });
  });
});

describe('nameVersion', () => {
  it.each([
    [
      'the longest matching tag',
      { digest: D1, matchingTags: ['a1b2c3d', 'a1b2c3d4e5f6'], labels: {} },
      'a1b2c3d4e5f6',
    ],
    [
      'the OCI version label',
      { digest: D1, matchingTags: [], labels: { 'org.opencontainers.image.version': '1.4.2' } },
      '1.4.2',
    ],
    [
      'the OCI revision label',
      { digest: D1, matchingTags: [], labels: { 'org.opencontainers.image.revision': 'deadbeef' } },
      'deadbeef',
    ],
    [
      'a label that is not a tag is skipped',
      { digest: D1, matchingTags: [], labels: { 'org.opencontainers.image.version': 'v 1' } },
      '111111111111',
    ],
    ['the short digest', { digest: D2, matchingTags: [], labels: {} }, '222222222222'],
  ])('%s', (_name, inputs, expected) => {
    expect(nameVersion(inputs)).toBe(expected);
  });
});

describe('image policy', () => {
  it('platforms: every node architecture must be in the image', () => {
    expect(checkPlatforms([{ os: 'linux', architecture: 'amd64' }], ['amd64']).outcome).toBe(
      'pass',
    );
    expect(
      checkPlatforms([{ os: 'linux', architecture: 'amd64' }], ['amd64', 'arm64']),
    ).toMatchObject({
      outcome: 'fail',
      reason: 'PlatformMissing',
      message: expect.stringContaining('linux/arm64'),
    });
  });

  it('regression: an older image fails unless allowed', () => {
    expect(checkRegression('2026-01-01T00:00:00Z', '2026-02-01T00:00:00Z', false)).toMatchObject({
      outcome: 'fail',
      reason: 'Regression',
    });
    expect(checkRegression('2026-01-01T00:00:00Z', '2026-02-01T00:00:00Z', true).outcome).toBe(
      'pass',
    );
    expect(checkRegression('2026-03-01T00:00:00Z', '2026-02-01T00:00:00Z', false).outcome).toBe(
      'pass',
    );
  });

  it('image age: a young image waits for the rest of the time', () => {
    const now = new Date('2026-01-01T00:01:00Z');
    expect(checkImageAge('2026-01-01T00:00:30Z', 120, now)).toMatchObject({
      outcome: 'wait',
      reason: 'ImageTooNew',
      retryAfterMs: 90_000,
    });
    expect(checkImageAge('2026-01-01T00:00:00Z', 60, now).outcome).toBe('pass');
  });

  it.each([
    ['no maxSeverity needs no scan', { status: 'unsupported' }, undefined, 'pass'],
    [
      'a registry without scans cannot satisfy maxSeverity',
      { status: 'unsupported' },
      'HIGH',
      'fail',
    ],
    ['a pending scan waits', { status: 'pending' }, 'HIGH', 'wait'],
    [
      'findings within the limit pass',
      { status: 'complete', severityCounts: { HIGH: 2, LOW: 9 } },
      'HIGH',
      'pass',
    ],
    [
      'a CRITICAL finding above HIGH fails',
      { status: 'complete', severityCounts: { CRITICAL: 1 } },
      'HIGH',
      'fail',
    ],
    ['NONE allows no finding', { status: 'complete', severityCounts: { LOW: 1 } }, 'NONE', 'fail'],
  ] as const)('scan: %s', (_name, report, max, outcome) => {
    expect(checkScan(report as any, max).outcome).toBe(outcome);
  });

  it('scan failure says what was found', () => {
    expect(
      checkScan({ status: 'complete', severityCounts: { CRITICAL: 2, HIGH: 1 } }, 'MEDIUM'),
    ).toMatchObject({
      message: 'the scan found 1 HIGH, 2 CRITICAL finding(s), above spec.policy.maxSeverity MEDIUM',
    });
  });
});
