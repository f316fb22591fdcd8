import { describe, expect, it } from 'vitest';
import { toPollable } from '../../src/reconciler/pollable.js';
import type { StoredContainerVersion } from '../../src/workers/ports.js';

const cv = (
  spec: Record<string, unknown>,
  status?: Record<string, unknown>,
): StoredContainerVersion => ({
  apiVersion: 'cvm.dev/v1',
  kind: 'ContainerVersion',
  metadata: { namespace: 'shop', name: 'api', uid: 'u-1', generation: 1, resourceVersion: '7' },
  spec: { selector: { app: 'api' }, container: 'api', ...spec },
  ...(status ? { status } : {}),
});

describe('toPollable', () => {
  it("is the poller's view of a valid CV: its registry, repository, tag and whether it is settled", () => {
    const synced = cv(
      { imageRepo: 'nginx', tag: 'stable', pollIntervalSeconds: 60 },
      { observedGeneration: 1, currentDigest: `sha256:${'a'.repeat(64)}` },
    );
    expect(toPollable(synced)).toMatchObject({
      namespace: 'shop',
      name: 'api',
      registry: 'docker.io',
      repository: 'library/nginx',
      tag: 'stable',
      pollIntervalSeconds: 60,
      currentDigest: `sha256:${'a'.repeat(64)}`,
      settled: true,
    });
    expect(toPollable(cv({ imageRepo: 'nginx', tag: 'stable' }))).toMatchObject({ settled: false });
    expect(toPollable(cv({ imageRepo: 'Not A Repo', tag: 'stable' }))).toBeUndefined();
  });

  it('derives each CV object once: the same object gives the same view, a changed copy a new one', () => {
    const first = cv({ imageRepo: 'ghcr.io/acme/api', tag: 'prod' });
    const view = toPollable(first);
    expect(toPollable(first)).toBe(view);
    const invalid = cv({ imageRepo: 'Not A Repo', tag: 'prod' });
    expect(toPollable(invalid)).toBeUndefined();
    expect(toPollable(invalid)).toBeUndefined();
    // The informer's next object for the CV (a status write): its own view, with the new digest.
    const next = { ...first, status: { currentDigest: `sha256:${'b'.repeat(64)}` } };
    expect(toPollable(next)).not.toBe(view);
    expect(toPollable(next)?.currentDigest).toBe(`sha256:${'b'.repeat(64)}`);
  });
});
