import { describe, expect, it } from 'vitest';
import type { Normalized } from '../../../src/events/push-event.js';
import { normalizeDockerhub } from '../../../src/events/sources/dockerhub.js';
import { DERIVED_ID, delivery, fixture, malformedField, pushEvent, withField } from './fixtures.js';

const hub = (fields: Parameters<typeof pushEvent>[1]) => pushEvent('dockerhub', fields);
const normalize = (body: unknown) => normalizeDockerhub(delivery(body));

describe('normalizeDockerhub', () => {
  it.each<{ name: string; fixture: string; expected: Normalized }>([
    {
      name: 'the documented push is one push event on docker.io, without digest',
      fixture: 'documented',
      expected: {
        events: [
          hub({
            registry: 'docker.io',
            repository: 'svendowideit/testhook',
            tag: 'latest',
            sourceEventId: DERIVED_ID as string,
            occurredAt: '2014-12-03T00:22:41.000Z',
          }),
        ],
        ignored: [],
      },
    },
    {
      name: 'an org repository push keeps its namespace',
      fixture: 'org-repo',
      expected: {
        events: [
          hub({
            registry: 'docker.io',
            repository: 'acme/api',
            tag: '1.4.2',
            sourceEventId: DERIVED_ID as string,
            occurredAt: '2025-03-04T10:15:02.000Z',
          }),
        ],
        ignored: [],
      },
    },
    {
      name: 'a fractional pushed_at keeps its milliseconds in occurredAt',
      fixture: 'float-pushed-at',
      expected: {
        events: [
          hub({
            registry: 'docker.io',
            repository: 'acme/api',
            tag: '1.4.2',
            sourceEventId: DERIVED_ID as string,
            occurredAt: '2025-03-04T10:15:02.750Z',
          }),
        ],
        ignored: [],
      },
    },
    {
      name: 'an official image repo_name without namespace becomes library/<name>',
      fixture: 'official-image',
      expected: {
        events: [
          hub({
            registry: 'docker.io',
            repository: 'library/nginx',
            tag: '1.27.4',
            sourceEventId: DERIVED_ID as string,
            occurredAt: '2025-03-04T10:15:02.000Z',
          }),
        ],
        ignored: [],
      },
    },
  ])('$name', ({ fixture: name, expected }) => {
    expect(normalize(fixture('dockerhub', name))).toEqual(expected);
  });

  it('a push with an empty tag is ignored', () => {
    const body = withField(fixture('dockerhub', 'org-repo'), ['push_data', 'tag'], '');
    expect(normalize(body)).toEqual({ events: [], ignored: ['push to "acme/api" without a tag'] });
  });

  describe('the derived sourceEventId', () => {
    const idOf = (body: unknown) => normalize(body).events[0]?.sourceEventId;
    const org = fixture('dockerhub', 'org-repo');

    it('is the same for a redelivery and for the float form of the same second', () => {
      expect(idOf(fixture('dockerhub', 'org-repo'))).toBe(idOf(org));
      expect(idOf(fixture('dockerhub', 'float-pushed-at'))).toBe(idOf(org));
    });

    it('is the same for repo_name nginx and library/nginx', () => {
      const official = fixture('dockerhub', 'official-image');
      const qualified = withField(official, ['repository', 'repo_name'], 'library/nginx');
      expect(idOf(qualified)).toBe(idOf(official));
    });

    it.each([
      ['a later push of the same tag', ['push_data', 'pushed_at'], 1741083400],
      ['another tag', ['push_data', 'tag'], 'latest'],
      ['another repository', ['repository', 'repo_name'], 'acme/web'],
    ])('differs for %s', (_, path, value) => {
      expect(idOf(withField(org, path, value))).not.toBe(idOf(org));
    });

    it('ignores callback_url', () => {
      const moved = withField(org, ['callback_url'], 'https://attacker.example/');
      expect(normalize(moved)).toEqual(normalize(org));
    });
  });

  const org = fixture('dockerhub', 'org-repo');
  it.each<{ name: string; body: unknown; field: string }>([
    { name: 'a body that is a string', body: 'push', field: '(body)' },
    {
      name: 'a missing push_data',
      body: withField(org, ['push_data'], undefined),
      field: 'push_data',
    },
    {
      name: 'a missing tag',
      body: withField(org, ['push_data', 'tag'], undefined),
      field: 'push_data.tag',
    },
    {
      name: 'an invalid tag',
      body: withField(org, ['push_data', 'tag'], 'v1:2'),
      field: 'push_data.tag',
    },
    {
      name: 'a pushed_at given as text',
      body: withField(org, ['push_data', 'pushed_at'], '1741083302'),
      field: 'push_data.pushed_at',
    },
    {
      name: 'a negative pushed_at',
      body: withField(org, ['push_data', 'pushed_at'], -1),
      field: 'push_data.pushed_at',
    },
    {
      name: 'a pushed_at beyond the year 9999',
      body: withField(org, ['push_data', 'pushed_at'], 1e20),
      field: 'push_data.pushed_at',
    },
    {
      name: 'a missing repo_name',
      body: withField(org, ['repository', 'repo_name'], undefined),
      field: 'repository.repo_name',
    },
    {
      name: 'an upper-case repo_name',
      body: withField(org, ['repository', 'repo_name'], 'Acme/API'),
      field: 'repository.repo_name',
    },
  ])('rejects $name, naming $field', ({ body, field }) => {
    expect(malformedField(() => normalize(body))).toBe(field);
  });
});
