import { describe, expect, it } from 'vitest';
import type { Normalized } from '../../../src/events/push-event.js';
import { normalizeQuay } from '../../../src/events/sources/quay.js';
import { delivery, fixture, rejectedField, pushEvent, withField } from './fixtures.js';

const quay = (registry: string, repository: string, tag: string) =>
  pushEvent('quay', { registry, repository, tag });
const normalize = (body: unknown) => normalizeQuay(delivery(body));
const ignored = (reason: string): Normalized => ({ events: [], ignored: [reason] });

describe('normalizeQuay', () => {
  it.each<{ name: string; fixture: string; expected: Normalized }>([
    {
      name: 'the documented push is one push event from docker_url, without digest',
      fixture: 'documented',
      expected: { events: [quay('quay.io', 'dgangaia/test', 'latest')], ignored: [] },
    },
    {
      name: 'a push of two tags is one event per tag',
      fixture: 'realistic-two-tags',
      expected: {
        events: [quay('quay.io', 'acme/api', '1.4.2'), quay('quay.io', 'acme/api', 'latest')],
        ignored: [],
      },
    },
    {
      name: 'the legacy object form of updated_tags is read by its keys',
      fixture: 'legacy-object-form',
      expected: {
        events: [quay('quay.io', 'acme/api', 'latest'), quay('quay.io', 'acme/api', '1.4.2')],
        ignored: [],
      },
    },
    {
      name: 'a self-hosted Quay keeps its port and gets a lower-case host',
      fixture: 'self-hosted',
      expected: {
        events: [quay('quay.example.com:8443', 'platform/worker', '2025.03.04')],
        ignored: [],
      },
    },
    {
      name: 'a build notification sent to the same URL is ignored',
      fixture: 'build-success',
      expected: ignored('not a repository push notification (no updated_tags)'),
    },
    {
      name: 'a push without updated tags is ignored',
      fixture: 'empty-tags',
      expected: ignored('push notification without updated tags'),
    },
  ])('$name', ({ fixture: name, expected }) => {
    expect(normalize(fixture('quay', name))).toEqual(expected);
  });

  it('carries no sourceEventId: a redelivery cannot be told from a later push of the same tags', () => {
    const events = normalize(fixture('quay', 'realistic-two-tags')).events;
    expect(events).toHaveLength(2);
    for (const event of events) expect(event).not.toHaveProperty('sourceEventId');
  });

  it('a tag listed twice gives one event', () => {
    const body = withField(fixture('quay', 'documented'), ['updated_tags'], ['latest', 'latest']);
    expect(normalize(body).events).toHaveLength(1);
  });

  const doc = fixture('quay', 'documented');
  it.each<{ name: string; body: unknown; field: string }>([
    { name: 'a body that is null', body: null, field: '(body)' },
    {
      name: 'updated_tags that is a string',
      body: withField(doc, ['updated_tags'], 'latest'),
      field: 'updated_tags',
    },
    {
      name: 'a tag that is no string',
      body: withField(doc, ['updated_tags'], [1]),
      field: 'updated_tags[0]',
    },
    {
      name: 'an invalid tag',
      body: withField(doc, ['updated_tags'], ['ok', '.bad']),
      field: 'updated_tags[1]',
    },
    {
      name: 'an invalid tag key in the legacy form',
      body: withField(doc, ['updated_tags'], { 'a b': 'x' }),
      field: 'updated_tags.a b',
    },
    {
      name: 'a missing docker_url',
      body: withField(doc, ['docker_url'], undefined),
      field: 'docker_url',
    },
    {
      name: 'a docker_url with a tag',
      body: withField(doc, ['docker_url'], 'quay.io/a/b:1'),
      field: 'docker_url',
    },
    {
      name: 'a docker_url that is a URL',
      body: withField(doc, ['docker_url'], 'https://quay.io/a/b'),
      field: 'docker_url',
    },
  ])('rejects $name, naming $field', ({ body, field }) => {
    expect(rejectedField(() => normalize(body))).toBe(field);
  });
});
