import { describe, expect, it } from 'vitest';
import { patchedLocally } from '../../src/workers/cv-status.js';
import type { StoredContainerVersion } from '../../src/workers/ports.js';

const cv = (status: Record<string, unknown>) =>
  ({
    apiVersion: 'cvm.dev/v1',
    kind: 'ContainerVersion',
    metadata: { namespace: 'ns', name: 'cv', uid: 'u', generation: 2, resourceVersion: '7' },
    spec: {},
    status,
  }) as unknown as StoredContainerVersion;

describe('patchedLocally: the CV as a status merge patch (RFC 7386) leaves it', () => {
  it('merges objects, removes on null, replaces arrays and values, skips undefined', () => {
    const before = cv({
      rollout: { phase: 'Patching', step: 1, workloads: [{ name: 'a' }], message: 'm' },
      lastRollout: { finishedAt: '2026-01-01T00:00:00Z', result: 'Succeeded' },
      failedDigests: ['sha256:1', 'sha256:2'],
    });
    const after = patchedLocally(before, {
      rollout: { phase: 'Waiting', workloads: [{ name: 'b' }] },
      lastRollout: { finishedAt: null, result: 'Progressing' },
      failedDigests: ['sha256:3'],
      currentDigest: undefined,
    } as never);
    expect(after.status).toEqual({
      rollout: { phase: 'Waiting', step: 1, workloads: [{ name: 'b' }], message: 'm' },
      lastRollout: { result: 'Progressing' },
      failedDigests: ['sha256:3'],
    });
    expect(after.metadata).toEqual(before.metadata);
    // The CV it was given is left as it was.
    expect((before.status as any).rollout.phase).toBe('Patching');
    expect(patchedLocally(before, { rollout: null } as never).status).not.toHaveProperty('rollout');
  });
});
