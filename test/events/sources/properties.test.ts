import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseImageRef } from '../../../src/events/image-ref.js';
import {
  MalformedEventError,
  PUSH_SOURCES,
  type Normalized,
  type PushSource,
  type RawDelivery,
} from '../../../src/events/push-event.js';
import { NORMALIZERS } from '../../../src/events/sources/index.js';
import { fixture, fixtureNames, RECEIVED_AT } from './fixtures.js';

const NUM_RUNS = 300;
const SHA256 = /^sha256:[a-f0-9]{64}$/;

type Path = (string | number)[];

/** Every path to a member of `value` (object keys and array indices), outermost first. */
function pathsOf(value: unknown, prefix: Path = []): Path[] {
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, child]) => {
    const path = [...prefix, Array.isArray(value) ? Number(key) : key];
    return [path, ...pathsOf(child, path)];
  });
}

/** `value` with the member at `path` deleted (`replacement` absent) or replaced. */
function mutate(value: unknown, path: Path, replacement: { value: unknown } | null): unknown {
  const copy = structuredClone(value) as any;
  const parent = path.slice(0, -1).reduce((node: any, key) => node[key], copy);
  const last = path[path.length - 1]!;
  if (replacement === null) delete parent[last];
  else parent[last] = replacement.value;
  return copy;
}

/** Values that are almost right somewhere: digests, tags, refs, hosts, times, other sources' words. */
const nearMiss = fc.constantFrom<unknown>(
  '',
  'latest',
  'sha256:',
  `sha256:${'a'.repeat(64)}`,
  `sha256:${'A'.repeat(64)}`,
  `sha512:${'b'.repeat(128)}`,
  'x:y',
  'a/b:c@sha256:1',
  'Registry.Example.com',
  'registry',
  'localhost:5000',
  '[::1]:5000',
  'docker.io/library/nginx:1.27',
  'us-east1-docker.pkg.dev/p/r/i:1',
  'PUSH',
  'push',
  'INSERT',
  'COMPLETE',
  'SUCCESS',
  'container',
  '2025-03-04T10:15:03Z',
  '9999-12-31T23:59:59.999999Z',
  1e300,
  -1,
  Number.MAX_SAFE_INTEGER,
  [],
  {},
  [''],
  { '': '' },
  null,
);

const replacement = fc.option(
  fc.record({ value: fc.oneof(nearMiss, fc.jsonValue({ maxDepth: 2 }), fc.string()) }),
  { nil: null },
);

const HEADERS: Partial<Record<PushSource, fc.Arbitrary<Record<string, string | undefined>>>> = {
  ghcr: fc.record({
    'x-github-event': fc.constantFrom('package', 'registry_package', 'ping', 'push', ''),
    'x-github-delivery': fc.option(fc.string(), { nil: undefined }),
  }),
  gar: fc.record({
    'x-goog-pubsub-message-id': fc.option(fc.string(), { nil: undefined }),
    'x-goog-pubsub-publish-time': fc.option(
      fc.oneof(fc.string(), fc.constantFrom('2025-03-04T10:15:03.749Z', '2025-03-04', '')),
      { nil: undefined },
    ),
  }),
};

/** The headers a source's fixtures are sent with, one random choice per run. */
function headersFor(source: PushSource): fc.Arbitrary<Record<string, string | undefined>> {
  return HEADERS[source] ?? fc.constant({});
}

/** Ways to deliver a (mutated) body: as is, and the envelopes a source unwraps. */
const WRAPPERS: Partial<Record<PushSource, ((body: unknown) => unknown)[]>> = {
  ecr: [(body) => ({ Type: 'Notification', Message: JSON.stringify(body) })],
  gar: [
    (body) => ({
      message: { data: Buffer.from(JSON.stringify(body) ?? '').toString('base64'), messageId: '1' },
    }),
  ],
};

function mutatedFixture(source: PushSource): fc.Arbitrary<unknown> {
  const bodies = fixtureNames(source).map((name) => fixture(source, name) as unknown);
  const wrap = [(body: unknown) => body, ...(WRAPPERS[source] ?? [])];
  return fc
    .constantFrom(...bodies)
    .chain((body) => {
      const paths = pathsOf(body);
      if (paths.length === 0) return fc.constant(body);
      return fc
        .tuple(fc.constantFrom(...paths), replacement)
        .map(([path, value]) => mutate(body, path, value));
    })
    .chain((body) => fc.constantFrom(...wrap).map((wrapper) => wrapper(body)));
}

/**
 * The property: a Normalized whose events all name a valid, normalized image of this source,
 * or a MalformedEventError naming a field; nothing else. Returns how many events there were.
 */
function checkOutcome(source: PushSource, delivery: RawDelivery): number {
  let result: Normalized;
  try {
    result = NORMALIZERS[source](delivery);
  } catch (err) {
    if (!(err instanceof MalformedEventError)) throw err;
    expect(err.field).not.toBe('');
    return 0;
  }
  expect(Array.isArray(result.ignored)).toBe(true);
  for (const reason of result.ignored) expect(typeof reason).toBe('string');
  for (const event of result.events) {
    const { registry, repository, tag } = event;
    expect(parseImageRef(`${registry}/${repository}:${tag}`)).toEqual({
      registry,
      repository,
      tag,
    });
    expect(registry).toBe(registry.toLowerCase());
    if (event.digest !== undefined) expect(event.digest).toMatch(SHA256);
    expect(event.source).toBe(source);
    expect(event.receivedAt).toBe(RECEIVED_AT.toISOString());
    if (event.occurredAt !== undefined) {
      expect(new Date(event.occurredAt).toISOString()).toBe(event.occurredAt);
    }
    if (event.sourceEventId !== undefined) expect(event.sourceEventId).not.toBe('');
  }
  return result.events.length;
}

const deliveries = (source: PushSource, body: fc.Arbitrary<unknown>) =>
  fc
    .tuple(body, headersFor(source))
    .map(([b, headers]): RawDelivery => ({ body: b, headers, receivedAt: RECEIVED_AT }));

describe.each(PUSH_SOURCES.map((source) => ({ source })))(
  'the $source normalizer returns valid events or throws MalformedEventError',
  ({ source }) => {
    it('for any JSON value', () => {
      fc.assert(
        fc.property(deliveries(source, fc.jsonValue()), (d) => {
          checkOutcome(source, d);
        }),
        { numRuns: NUM_RUNS },
      );
    });

    it('for any JavaScript value, sparse arrays, boxed values and null prototypes included', () => {
      const anything = fc.anything({
        withBoxedValues: true,
        withNullPrototype: true,
        withSparseArray: true,
        withTypedArray: true,
        withMap: true,
        withSet: true,
        withDate: true,
        withBigInt: true,
      });
      fc.assert(
        fc.property(deliveries(source, anything), (d) => {
          checkOutcome(source, d);
        }),
        { numRuns: NUM_RUNS },
      );
    });

    it('for every fixture with one member deleted or replaced', () => {
      let events = 0;
      fc.assert(
        fc.property(deliveries(source, mutatedFixture(source)), (d) => {
          events += checkOutcome(source, d);
        }),
        { numRuns: NUM_RUNS },
      );
      // Most mutations keep a deployable push: the property is not judged on rejections alone.
      expect(events).toBeGreaterThan(0);
    });
  },
);

describe('NORMALIZERS', () => {
  it('has one normalizer per push source', () => {
    expect(Object.keys(NORMALIZERS).sort()).toEqual([...PUSH_SOURCES].sort());
  });
});
