import { describe, expect, it } from 'vitest';
import type { Normalized } from '../../../src/events/push-event.js';
import { normalizeHarbor } from '../../../src/events/sources/harbor.js';
import { DERIVED_ID, delivery, fixture, rejectedField, pushEvent, withField } from './fixtures.js';

const DEBIAN = 'sha256:8a9e9863dbb6e10edb5adfe917c00da84e1700fa76e7ed02476aa6e6fb8ee0d8';
const INDEX = 'sha256:1bc04b5291c26a46d918139138b992d2de976d6851d0893b0476b85bfbdfc6e6';
const ARM = 'sha256:36ddf65954f810a639e6ee52fd8a5bab56214befb3b633edd2d672f4cbda990b';

const harbor = (fields: Parameters<typeof pushEvent>[1]) => pushEvent('harbor', fields);
const normalize = (body: unknown) => normalizeHarbor(delivery(body));
const debianPush = (registry: string) =>
  harbor({
    registry,
    repository: 'test-webhook/debian',
    tag: 'latest',
    digest: DEBIAN,
    sourceEventId: DERIVED_ID as string,
    occurredAt: '2020-04-15T03:45:08.000Z',
  });

describe('normalizeHarbor', () => {
  it.each<{ name: string; fixture: string; expected: Normalized }>([
    {
      name: 'the documented Default-format push is one push event on the resource_url host',
      fixture: 'default-push-documented',
      expected: { events: [debianPush('hub.harbor.com')], ignored: [] },
    },
    {
      name: 'a CloudEvents push of two tags is one event per tag, ids from the CloudEvents id',
      fixture: 'cloudevents-two-tags',
      expected: {
        events: ['1.4.2', 'latest'].map((tag) =>
          harbor({
            registry: 'harbor.example.com',
            repository: 'team/api',
            tag,
            digest: INDEX,
            sourceEventId: `9c1f3e2d-7b6a-4c5d-8e9f-0a1b2c3d4e5f/${tag}`,
            occurredAt: '2025-03-04T10:15:03.000Z',
          }),
        ),
        ignored: [],
      },
    },
    {
      name: 'a nested repository on a host with a port',
      fixture: 'default-nested-repository',
      expected: {
        events: [
          harbor({
            registry: 'harbor.internal:8443',
            repository: 'platform/tools/builder',
            tag: '2025.03.04',
            digest: ARM,
            sourceEventId: DERIVED_ID as string,
            occurredAt: '2025-03-04T10:15:03.000Z',
          }),
        ],
        ignored: [],
      },
    },
    {
      name: 'a resource_url without host falls back to docker.io, as Keel does',
      fixture: 'default-resource-url-without-host',
      expected: { events: [debianPush('docker.io')], ignored: [] },
    },
    {
      name: 'the documented CloudEvents push by digest (tag = digest) is ignored',
      fixture: 'cloudevents-digest-documented',
      expected: { events: [], ignored: ['data.resources[0]: push by digest, without a tag'] },
    },
    {
      name: 'a tagged resource is kept and a digest-tagged one beside it ignored',
      fixture: 'default-tag-and-digest',
      expected: {
        events: [debianPush('hub.harbor.com')],
        ignored: ['event_data.resources[1]: push by digest, without a tag'],
      },
    },
    {
      name: 'a pull is ignored',
      fixture: 'default-pull',
      expected: { events: [], ignored: ['unsupported Harbor event type "PULL_ARTIFACT"'] },
    },
    {
      name: 'a CloudEvents scan result is ignored',
      fixture: 'cloudevents-scan-completed',
      expected: { events: [], ignored: ['unsupported Harbor event type "harbor.scan.completed"'] },
    },
  ])('$name', ({ fixture: name, expected }) => {
    expect(normalize(fixture('harbor', name))).toEqual(expected);
  });

  const doc = fixture('harbor', 'default-push-documented');
  const ce = fixture('harbor', 'cloudevents-two-tags');

  it('a push without resources is ignored', () => {
    const body = withField(doc, ['event_data', 'resources'], []);
    expect(normalize(body)).toEqual({ events: [], ignored: ['push without resources'] });
  });

  it('the Default format id is stable for a redelivery and changes with occur_at', () => {
    const idOf = (body: unknown) => normalize(body).events[0]?.sourceEventId;
    expect(idOf(structuredClone(doc))).toBe(idOf(doc));
    expect(idOf(withField(doc, ['occur_at'], 1586922400))).not.toBe(idOf(doc));
  });

  it('a CloudEvent that is no Harbor push type, such as a Default type name, is ignored', () => {
    const body = withField(ce, ['type'], 'PUSH_ARTIFACT');
    expect(normalize(body).events).toEqual([]);
  });

  it.each<{ name: string; body: unknown; field: string }>([
    { name: 'a body that is a number', body: 42, field: '(body)' },
    { name: 'a missing type', body: withField(doc, ['type'], undefined), field: 'type' },
    {
      name: 'a missing event_data',
      body: withField(doc, ['event_data'], undefined),
      field: 'event_data',
    },
    { name: 'a CloudEvent without data', body: withField(ce, ['data'], undefined), field: 'data' },
    {
      name: 'resources that are no array',
      body: withField(doc, ['event_data', 'resources'], {}),
      field: 'event_data.resources',
    },
    {
      name: 'a missing repo_full_name',
      body: withField(doc, ['event_data', 'repository', 'repo_full_name'], undefined),
      field: 'event_data.repository.repo_full_name',
    },
    {
      name: 'a missing resource_url',
      body: withField(doc, ['event_data', 'resources', 0, 'resource_url'], undefined),
      field: 'event_data.resources[0].resource_url',
    },
    {
      name: 'a resource_url that is a URL',
      body: withField(
        doc,
        ['event_data', 'resources', 0, 'resource_url'],
        'https://hub.harbor.com/x',
      ),
      field: 'event_data.resources[0].resource_url',
    },
    {
      name: 'an invalid digest',
      body: withField(ce, ['data', 'resources', 1, 'digest'], 'md5:abc'),
      field: 'data.resources[1].digest',
    },
    {
      name: 'an invalid tag',
      body: withField(doc, ['event_data', 'resources', 0, 'tag'], 'la test'),
      field: 'event_data.resources[0].tag',
    },
    { name: 'an occur_at as text', body: withField(doc, ['occur_at'], 'now'), field: 'occur_at' },
    {
      name: 'a CloudEvents time that is no RFC 3339',
      body: withField(ce, ['time'], 1677053165),
      field: 'time',
    },
  ])('rejects $name, naming $field', ({ body, field }) => {
    expect(rejectedField(() => normalize(body))).toBe(field);
  });
});
