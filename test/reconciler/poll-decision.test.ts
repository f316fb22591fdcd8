import { describe, expect, it } from 'vitest';
import { controllerAction } from '../../src/reconciler/cv-controller.js';
import { driftedWorkloads } from '../../src/reconciler/drift-detector.js';
import {
  cvsBehind,
  pollDecision,
  pollTargets,
  type PollableCv,
} from '../../src/reconciler/poll-decision.js';

const cv = (
  name: string,
  tag: string,
  pollIntervalSeconds: number,
  extra: Partial<PollableCv> = {},
): PollableCv => ({
  namespace: 'ns',
  name,
  uid: name,
  registry: 'ghcr.io',
  repository: 'acme/api',
  tag,
  pollIntervalSeconds,
  suspend: false,
  currentDigest: undefined,
  ...extra,
});

describe('pollTargets', () => {
  it('groups CVs by repo:tag with the smallest positive interval; push-only and suspended CVs do not poll', () => {
    const targets = pollTargets([
      cv('a', 'prod', 300),
      cv('b', 'prod', 60),
      cv('c', 'prod', 0),
      cv('d', 'dev', 0),
      cv('e', 'qa', 30, { suspend: true }),
    ]);
    expect(targets.map((t) => [t.key, t.intervalSeconds, t.cvs.map((c) => c.name)])).toEqual([
      ['ghcr.io/acme/api:prod', 60, ['a', 'b']],
    ]);
  });

  it('for a recovery check, push-only CVs are grouped too (interval 0 when only they follow a tag); suspended ones still not', () => {
    const targets = pollTargets(
      [
        cv('c', 'prod', 0),
        cv('a', 'prod', 300),
        cv('d', 'dev', 0),
        cv('e', 'qa', 30, { suspend: true }),
      ],
      { includePushOnly: true },
    );
    expect(targets.map((t) => [t.key, t.intervalSeconds, t.cvs.map((c) => c.name)])).toEqual([
      ['ghcr.io/acme/api:prod', 300, ['c', 'a']],
      ['ghcr.io/acme/api:dev', 0, ['d']],
    ]);
  });

  it('1,000 CVs over 10 repo:tags make 10 targets', () => {
    const cvs = Array.from({ length: 1000 }, (_, i) => cv(`cv-${i}`, `t${i % 10}`, 2));
    expect(pollTargets(cvs)).toHaveLength(10);
  });
});

describe('pollDecision', () => {
  const now = 1_000_000;
  it.each([
    ['never touched', {}, true],
    ['a push event within the interval', { lastEventAtMs: now - 30_000 }, false],
    ['a poll within the interval', { lastPollAtMs: now - 59_000 }, false],
    [
      'both older than the interval',
      { lastEventAtMs: now - 61_000, lastPollAtMs: now - 70_000 },
      true,
    ],
    [
      'an old poll but a recent event',
      { lastEventAtMs: now - 1_000, lastPollAtMs: now - 600_000 },
      false,
    ],
  ])('%s', (_name, state, due) => {
    expect(pollDecision({ intervalSeconds: 60 }, state, now).due).toBe(due);
  });

  it('a registry backing off is not polled before the backoff ends', () => {
    expect(pollDecision({ intervalSeconds: 60 }, {}, now, { backoffUntilMs: now + 5_000 })).toEqual(
      { due: false, dueAtMs: now + 5_000 },
    );
  });

  it('jitter delays by up to a tenth of the interval', () => {
    expect(
      pollDecision({ intervalSeconds: 100 }, { lastPollAtMs: 0 }, 0, { jitter: 0.5 }).dueAtMs,
    ).toBe(105_000);
  });
});

describe('cvsBehind', () => {
  it('names the CVs that do not run the polled digest', () => {
    const [target] = pollTargets([
      cv('a', 'prod', 60, { currentDigest: 'sha256:1' }),
      cv('b', 'prod', 60, { currentDigest: 'sha256:2' }),
    ]);
    expect(cvsBehind(target!, 'sha256:2').map((c) => c.name)).toEqual(['a']);
  });
});

describe('controllerAction', () => {
  const stored = (generation: number, observedGeneration: number | undefined, spec: unknown) =>
    ({
      apiVersion: 'cvm.dev/v1',
      kind: 'ContainerVersion',
      metadata: { name: 'a', namespace: 'n', uid: 'u', generation, resourceVersion: '1' },
      spec,
      status: observedGeneration === undefined ? undefined : { observedGeneration },
    }) as any;
  const valid = {
    imageRepo: 'ghcr.io/acme/api',
    tag: 'prod',
    selector: { app: 'a' },
    container: 'api',
  };
  it.each([
    ['a new valid CV is synced', stored(1, undefined, valid), 'sync'],
    ['a changed valid CV is synced', stored(3, 2, valid), 'sync'],
    ['an observed CV is left alone', stored(2, 2, valid), 'none'],
    ['an invalid CV is reported', stored(1, undefined, { ...valid, tag: 'a/b' }), 'invalid'],
  ])('%s', (_name, object, action) => {
    expect(controllerAction(object)).toBe(action);
  });
});

describe('driftedWorkloads', () => {
  const w = (name: string, image: string) =>
    ({
      kind: 'Deployment',
      namespace: 'n',
      name,
      uid: name,
      generation: 1,
      annotations: {},
      containers: [{ name: 'api', image }],
      initContainers: [],
      object: {},
    }) as any;
  it('finds the workloads whose container runs something other than the current digest', () => {
    const drifted = driftedWorkloads(
      [w('ok', 'r/a:1@sha256:1'), w('hand', 'r/a:2'), w('other', 'r/a:1@sha256:2')],
      'api',
      'sha256:1',
    );
    expect(drifted.map((d) => d.name)).toEqual(['hand', 'other']);
  });
});
