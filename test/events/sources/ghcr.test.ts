import { describe, expect, it } from 'vitest';
import type { Normalized } from '../../../src/events/push-event.js';
import { normalizeGhcr } from '../../../src/events/sources/ghcr.js';
import { delivery, fixture, malformedField, pushEvent, withField } from './fixtures.js';

const INDEX = 'sha256:1bc04b5291c26a46d918139138b992d2de976d6851d0893b0476b85bfbdfc6e6';
const ARM = 'sha256:36ddf65954f810a639e6ee52fd8a5bab56214befb3b633edd2d672f4cbda990b';
const DELIVERY_ID = '72d3162e-cc78-11e3-81ab-4c9367dc0958';

const headersFor = (event: string) => ({
  'x-github-event': event,
  'x-github-delivery': DELIVERY_ID,
  'x-github-hook-id': '476345210',
  'x-hub-signature-256': 'sha256=0000000000000000000000000000000000000000000000000000000000000000',
  'user-agent': 'GitHub-Hookshot/f1aa8ea',
  'content-type': 'application/json',
});
const normalize = (event: string, body: unknown) =>
  normalizeGhcr(delivery(body, headersFor(event)));
const ignored = (reason: string): Normalized => ({ events: [], ignored: [reason] });

describe('normalizeGhcr', () => {
  it.each<{ name: string; event: string; fixture: string; expected: Normalized }>([
    {
      name: 'a published container version with a tag is one push event on ghcr.io',
      event: 'package',
      fixture: 'package-published',
      expected: {
        events: [
          pushEvent('ghcr', {
            registry: 'ghcr.io',
            repository: 'acme/api',
            tag: '1.4.2',
            digest: INDEX,
            sourceEventId: DELIVERY_ID,
            occurredAt: '2025-03-04T10:15:03.000Z',
          }),
        ],
        ignored: [],
      },
    },
    {
      name: 'a registry_package update reads the package under that key and lower-cases the name',
      event: 'registry_package',
      fixture: 'registry-package-updated',
      expected: {
        events: [
          pushEvent('ghcr', {
            registry: 'ghcr.io',
            repository: 'octo-org/build-tools',
            tag: 'v2',
            digest: ARM,
            sourceEventId: DELIVERY_ID,
            occurredAt: '2025-03-05T08:00:00.000Z',
          }),
        ],
        ignored: [],
      },
    },
    {
      name: 'an untagged version is ignored',
      event: 'package',
      fixture: 'package-untagged',
      expected: ignored('untagged version of "ghcr.io/acme/api"'),
    },
    { name: 'a ping is ignored', event: 'ping', fixture: 'ping', expected: ignored('ping') },
    {
      name: 'an npm package is ignored',
      event: 'package',
      fixture: 'npm-package',
      expected: ignored('package type "npm" is not a container'),
    },
    {
      name: 'another GitHub event is ignored',
      event: 'push',
      fixture: 'ping',
      expected: ignored('unsupported GitHub event "push"'),
    },
  ])('$name', ({ event, fixture: name, expected }) => {
    expect(normalize(event, fixture('ghcr', name))).toEqual(expected);
  });

  const published = fixture('ghcr', 'package-published');
  const version = ['package', 'package_version'];

  it.each([
    ['a package action other than published or updated', 'deleted'],
    ['an unknown action', 'archived'],
  ])('%s is ignored', (_, action) => {
    expect(normalize('package', withField(published, ['action'], action))).toEqual(
      ignored(`package action "${action}"`),
    );
  });

  it('the digest falls back to package_version.name when the tag has none', () => {
    const body = withField(
      published,
      [...version, 'container_metadata', 'tag', 'digest'],
      undefined,
    );
    expect(normalize('package', body).events[0]?.digest).toBe(INDEX);
  });

  it('no digest is given when neither the tag nor the version name is one', () => {
    let body = withField(published, [...version, 'container_metadata', 'tag', 'digest'], '');
    body = withField(body, [...version, 'name'], '1.4.2');
    const [event] = normalize('package', body).events;
    expect(event).toBeDefined();
    expect(event).not.toHaveProperty('digest');
  });

  it('the namespace falls back to the owner login', () => {
    const body = withField(published, ['package', 'namespace'], undefined);
    expect(normalize('package', body).events[0]?.repository).toBe('acme/api');
  });

  it('package_type is compared case-insensitively and ecosystem is its fallback', () => {
    const lower = withField(published, ['package', 'package_type'], 'container');
    expect(normalize('package', lower).events).toHaveLength(1);
    const ecosystemOnly = withField(published, ['package', 'package_type'], undefined);
    expect(normalize('package', ecosystemOnly).events).toHaveLength(1);
  });

  it('a delivery without x-github-delivery has no sourceEventId', () => {
    const result = normalizeGhcr(delivery(published, { 'x-github-event': 'package' }));
    expect(result.events[0]).not.toHaveProperty('sourceEventId');
  });

  it('a version whose container_metadata has no tag object is ignored as untagged', () => {
    const body = withField(published, [...version, 'container_metadata', 'tag'], null);
    expect(normalize('package', body)).toEqual(ignored('untagged version of "ghcr.io/acme/api"'));
  });

  it.each<{ name: string; event?: string; body: unknown; field: string }>([
    { name: 'a missing x-github-event header', body: published, field: 'headers.x-github-event' },
    {
      name: 'a missing action',
      event: 'package',
      body: withField(published, ['action'], undefined),
      field: 'action',
    },
    {
      name: 'a package key that does not match the event',
      event: 'registry_package',
      body: published,
      field: 'registry_package',
    },
    {
      name: 'a missing package_type and ecosystem',
      event: 'package',
      body: withField(
        withField(published, ['package', 'package_type'], undefined),
        ['package', 'ecosystem'],
        undefined,
      ),
      field: 'package.ecosystem',
    },
    {
      name: 'an empty name',
      event: 'package',
      body: withField(published, ['package', 'name'], ''),
      field: 'package.name',
    },
    {
      name: 'a name that no image reference can hold',
      event: 'package',
      body: withField(published, ['package', 'name'], 'my api'),
      field: 'package.name',
    },
    {
      name: 'a missing container_metadata',
      event: 'package',
      body: withField(published, [...version, 'container_metadata'], undefined),
      field: 'package.package_version.container_metadata',
    },
    {
      name: 'an invalid tag digest',
      event: 'package',
      body: withField(published, [...version, 'container_metadata', 'tag', 'digest'], 'sha256:abc'),
      field: 'package.package_version.container_metadata.tag.digest',
    },
    {
      name: 'an invalid tag',
      event: 'package',
      body: withField(published, [...version, 'container_metadata', 'tag', 'name'], 'a/b'),
      field: 'package.package_version.container_metadata.tag.name',
    },
    {
      name: 'an invalid updated_at',
      event: 'package',
      body: withField(published, [...version, 'updated_at'], 'March 4'),
      field: 'package.package_version.updated_at',
    },
  ])('rejects $name, naming $field', ({ event, body, field }) => {
    const headers = event === undefined ? {} : headersFor(event);
    expect(malformedField(() => normalizeGhcr(delivery(body, headers)))).toBe(field);
  });
});
