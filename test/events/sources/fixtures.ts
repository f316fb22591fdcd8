import { readdirSync, readFileSync } from 'node:fs';
import { expect } from 'vitest';
import {
  MalformedEventError,
  type Normalized,
  type PushEvent,
  type PushSource,
  type RawDelivery,
} from '../../../src/events/push-event.js';

const FIXTURES = new URL('../fixtures/', import.meta.url);

/** The receivedAt of every delivery in these tests. */
export const RECEIVED_AT = new Date('2025-03-04T10:15:05.123Z');

/** The body of `test/events/fixtures/<source>/<name>.json`, parsed afresh on each call. */
export function fixture(source: PushSource, name: string): any {
  return JSON.parse(readFileSync(new URL(`${source}/${name}.json`, FIXTURES), 'utf8'));
}

/** Names (without `.json`) of the fixtures of `source`. */
export function fixtureNames(source: PushSource): string[] {
  return readdirSync(new URL(`${source}/`, FIXTURES))
    .filter((file) => file.endsWith('.json'))
    .map((file) => file.slice(0, -'.json'.length))
    .sort();
}

export function delivery(
  body: unknown,
  headers: Record<string, string | undefined> = {},
): RawDelivery {
  return { body, headers, receivedAt: RECEIVED_AT };
}

/** A PushEvent of `source` received at {@link RECEIVED_AT}, kind `push` unless given. */
export function pushEvent(
  source: PushSource,
  fields: Omit<PushEvent, 'source' | 'receivedAt' | 'kind'> & { kind?: PushEvent['kind'] },
): PushEvent {
  return { kind: 'push', ...fields, source, receivedAt: RECEIVED_AT.toISOString() };
}

/** Matches the ids derived for sources without ids. */
export const DERIVED_ID: unknown = expect.stringMatching(/^[a-f0-9]{32}$/);

/** Runs `normalize` and returns the `field` of the MalformedEventError it must throw. */
export function malformedField(normalize: () => unknown): string {
  try {
    normalize();
  } catch (err) {
    expect(err).toBeInstanceOf(MalformedEventError);
    return (err as MalformedEventError).field;
  }
  throw new Error('expected a MalformedEventError, but the normalizer returned');
}

/** A deep copy of `value` with the member at `path` set to `replacement` (deleted when `undefined`). */
export function withField(
  value: unknown,
  path: readonly (string | number)[],
  replacement: unknown,
): any {
  const copy = structuredClone(value) as any;
  const parent = path.slice(0, -1).reduce((node: any, key) => node[key], copy);
  const last = path[path.length - 1]!;
  if (replacement === undefined) delete parent[last];
  else parent[last] = replacement;
  return copy;
}

/**
 * The field a normalizer rejects: named by the MalformedEventError it throws for the whole
 * delivery, or by the first entry of `invalid` for one event of a multi-event delivery (whose other
 * events are judged on their own). Fails when it does neither.
 */
export function rejectedField(normalize: () => Normalized): string {
  let normalized: Normalized;
  try {
    normalized = normalize();
  } catch (err) {
    expect(err).toBeInstanceOf(MalformedEventError);
    return (err as MalformedEventError).field;
  }
  const first = normalized.invalid?.[0];
  if (first === undefined) throw new Error('expected the event to be rejected, but it was not');
  return first.slice(0, first.indexOf(': '));
}
