import { describe, expect, it } from 'vitest';
import type { Normalized } from '../../../src/events/push-event.js';
import { normalizeDistribution } from '../../../src/events/sources/distribution.js';
import {
  delivery,
  fixture,
  malformedField,
  rejectedField,
  pushEvent,
  withField,
} from './fixtures.js';

const INDEX = 'sha256:1bc04b5291c26a46d918139138b992d2de976d6851d0893b0476b85bfbdfc6e6';
const CHILD = 'sha256:5861314d7fccb39c2192173240eab44fa35ca66426201ca2acd0630a6258dd51';
const ARM = 'sha256:36ddf65954f810a639e6ee52fd8a5bab56214befb3b633edd2d672f4cbda990b';

const normalize = (body: unknown) => normalizeDistribution(delivery(body));
const indexPush = pushEvent('distribution', {
  registry: 'registry.example.com',
  repository: 'team/api',
  tag: '1.4.2',
  digest: INDEX,
  sourceEventId: '320678d8-ca14-430f-8bb6-4ca139cd83f7',
  occurredAt: '2025-03-04T10:15:03.402Z',
});

describe('normalizeDistribution', () => {
  it.each<{ name: string; fixture: string; expected: Normalized }>([
    {
      name: 'the documented tagged manifest push is one push event',
      fixture: 'manifest-push-documented',
      expected: { events: [indexPush], ignored: [] },
    },
    {
      name: 'an image push envelope: blobs and the untagged child ignored, the tagged index kept',
      fixture: 'image-push-with-blobs',
      expected: {
        events: [indexPush],
        ignored: [
          'events[0]: push of a blob ("application/vnd.oci.image.layer.v1.tar+gzip")',
          'events[1]: push of a blob ("application/octet-stream")',
          `events[2]: push of an untagged manifest (${CHILD})`,
        ],
      },
    },
    {
      name: 'a manifest push without mediaType is recognized by its /manifests/ url',
      fixture: 'manifest-without-media-type',
      expected: {
        events: [
          pushEvent('distribution', {
            registry: 'localhost:5000',
            repository: 'team/api',
            tag: 'arm64',
            digest: ARM,
            sourceEventId: '0d1c2b3a-4958-4a6b-8c7d-9e0f1a2b3c4d',
            occurredAt: '2025-03-04T10:15:03.000Z',
          }),
        ],
        ignored: [],
      },
    },
    {
      name: 'a Docker manifest on a mixed-case host with a port gets a lower-case registry',
      fixture: 'docker-manifest-on-port',
      expected: {
        events: [
          pushEvent('distribution', {
            registry: 'registry.example.com:5443',
            repository: 'library/alpine',
            tag: '3.21',
            digest: ARM,
            sourceEventId: '7e6d5c4b-3a29-4817-a6b5-c4d3e2f1a0b9',
            occurredAt: '2025-03-04T10:40:00.500Z',
          }),
        ],
        ignored: [],
      },
    },
    {
      name: 'a pull is ignored',
      fixture: 'pull',
      expected: { events: [], ignored: ['events[0]: "pull" is not a push'] },
    },
    {
      name: 'a delete is ignored',
      fixture: 'delete',
      expected: { events: [], ignored: ['events[0]: "delete" is not a push'] },
    },
    {
      name: 'a mount is ignored',
      fixture: 'mount',
      expected: { events: [], ignored: ['events[0]: "mount" is not a push'] },
    },
    {
      name: 'an envelope without events is ignored',
      fixture: 'empty-envelope',
      expected: { events: [], ignored: ['envelope without events'] },
    },
  ])('$name', ({ fixture: name, expected }) => {
    expect(normalize(fixture('distribution', name))).toEqual(expected);
  });

  const doc = fixture('distribution', 'manifest-push-documented');
  const target = ['events', 0, 'target'];

  it('a blob push without mediaType is recognized by its /blobs/ url', () => {
    const blob = withField(
      withField(doc, [...target, 'mediaType'], undefined),
      [...target, 'url'],
      'https://registry.example.com/v2/team/api/blobs/' + INDEX,
    );
    expect(normalize(blob)).toEqual({
      events: [],
      ignored: ['events[0]: push of a blob (no media type)'],
    });
  });

  it('media type parameters and case do not hide a manifest', () => {
    const body = withField(
      doc,
      [...target, 'mediaType'],
      'Application/VND.OCI.Image.Index.v1+json; charset=utf-8',
    );
    expect(normalize(body).events).toEqual([indexPush]);
  });

  it.each<{ name: string; body: unknown; field: string }>([
    { name: 'a body without events', body: {}, field: 'events' },
    { name: 'events that is an object', body: { events: {} }, field: 'events' },
    { name: 'an event that is a string', body: { events: ['push'] }, field: 'events[0]' },
    {
      name: 'an event without action, after a valid one',
      body: { events: [doc.events[0], { target: {} }] },
      field: 'events[1].action',
    },
    {
      name: 'a push without target',
      body: withField(doc, target, undefined),
      field: 'events[0].target',
    },
    {
      name: 'a tagged manifest push without repository',
      body: withField(doc, [...target, 'repository'], undefined),
      field: 'events[0].target.repository',
    },
    {
      name: 'a tagged manifest push with an invalid digest',
      body: withField(doc, [...target, 'digest'], INDEX.toUpperCase()),
      field: 'events[0].target.digest',
    },
    {
      name: 'a tagged manifest push with an invalid tag',
      body: withField(doc, [...target, 'tag'], '1.4.2@latest'),
      field: 'events[0].target.tag',
    },
    {
      name: 'a tagged manifest push without request',
      body: withField(doc, ['events', 0, 'request'], undefined),
      field: 'events[0].request',
    },
    {
      name: 'a request.host with a path',
      body: withField(doc, ['events', 0, 'request', 'host'], 'registry.example.com/v2'),
      field: 'events[0].request.host',
    },
    {
      name: 'an invalid timestamp',
      body: withField(doc, ['events', 0, 'timestamp'], '2025-03-04'),
      field: 'events[0].timestamp',
    },
  ])('rejects $name, naming $field', ({ body, field }) => {
    expect(rejectedField(() => normalize(body))).toBe(field);
  });

  it('an invalid event among valid ones is listed in invalid; the valid ones stay events', () => {
    const doc = fixture('distribution', 'manifest-push-documented');
    const result = normalize({ events: [{ target: {} }, doc.events[0], 'push'] });
    expect(result.events).toEqual([indexPush]);
    expect(result.invalid).toEqual([
      expect.stringMatching(/^events\[0\]\.action: /),
      expect.stringMatching(/^events\[2\]: /),
    ]);
  });

  it('an envelope whose events member is not a list is malformed as a whole', () => {
    expect(malformedField(() => normalize({ events: 'push' }))).toBe('events');
  });
});
