import { describe, expect, it } from 'vitest';
import type { Normalized } from '../../../src/events/push-event.js';
import { normalizeGeneric } from '../../../src/events/sources/generic.js';
import { delivery, fixture, malformedField, pushEvent } from './fixtures.js';

const INDEX = 'sha256:1bc04b5291c26a46d918139138b992d2de976d6851d0893b0476b85bfbdfc6e6';
const ARM = 'sha256:36ddf65954f810a639e6ee52fd8a5bab56214befb3b633edd2d672f4cbda990b';

const normalize = (body: unknown) => normalizeGeneric(delivery(body));
const generic = (fields: Parameters<typeof pushEvent>[1]) => pushEvent('generic', fields);

describe('normalizeGeneric', () => {
  it.each<{ name: string; fixture: string; expected: Normalized }>([
    {
      name: 'an image with a tag is one push event, without an id when none was sent',
      fixture: 'tag-only',
      expected: {
        events: [
          generic({
            registry: 'registry.example.com',
            repository: 'team/api',
            tag: '1.4.2',
          }),
        ],
        ignored: [],
      },
    },
    {
      name: 'digest and id are passed on',
      fixture: 'tag-and-digest',
      expected: {
        events: [
          generic({
            registry: 'registry.example.com:5000',
            repository: 'team/api',
            tag: '1.4.2',
            digest: INDEX,
            sourceEventId: 'build-8812',
          }),
        ],
        ignored: [],
      },
    },
    {
      name: 'the combined form repo:tag@digest gives tag and digest',
      fixture: 'combined-reference',
      expected: {
        events: [
          generic({
            registry: 'ghcr.io',
            repository: 'acme/api',
            tag: '1.4.2',
            digest: INDEX,
            sourceEventId: 'github/run/13412/1',
          }),
        ],
        ignored: [],
      },
    },
    {
      name: 'a Docker Hub short name is normalized and unknown fields are ignored',
      fixture: 'docker-hub-official',
      expected: {
        events: [
          generic({
            registry: 'docker.io',
            repository: 'library/nginx',
            tag: '1.27',
            digest: ARM,
          }),
        ],
        ignored: [],
      },
    },
  ])('$name', ({ fixture: name, expected }) => {
    expect(normalize(fixture('generic', name))).toEqual(expected);
  });

  it('derives no id: the same image reported again later is a new push (A → B → A)', () => {
    expect(
      normalize({ image: 'registry.example.com/team/api:1.4.2', digest: INDEX }).events[0],
    ).not.toHaveProperty('sourceEventId');
  });

  it('the same digest in image and digest is accepted', () => {
    const body = { image: `nginx:1.27@${ARM}`, digest: ARM };
    expect(normalize(body).events[0]?.digest).toBe(ARM);
  });

  it.each<{ name: string; body: unknown; field: string }>([
    { name: 'a body that is a string', body: 'nginx:1.27', field: '(body)' },
    { name: 'a missing image', body: { digest: INDEX }, field: 'image' },
    {
      name: 'an image without tag',
      body: { image: 'registry.example.com/team/api' },
      field: 'image',
    },
    { name: 'an image with only a digest', body: { image: `nginx@${INDEX}` }, field: 'image' },
    { name: 'an image with upper case', body: { image: 'Team/API:1' }, field: 'image' },
    {
      name: 'an image whose registry Docker would not read as a host once lower-cased',
      body: { image: 'REGISTRY/team/api:1' },
      field: 'image',
    },
    {
      name: 'an image with a sha512 digest',
      body: { image: `nginx:1@sha512:${'ab'.repeat(64)}` },
      field: 'image',
    },
    { name: 'a short digest', body: { image: 'nginx:1', digest: 'sha256:abc' }, field: 'digest' },
    { name: 'a digest that is a number', body: { image: 'nginx:1', digest: 256 }, field: 'digest' },
    {
      name: 'a digest differing from the one in image',
      body: { image: `nginx:1@${INDEX}`, digest: ARM },
      field: 'digest',
    },
    { name: 'an id with a colon', body: { image: 'nginx:1', id: 'build:1' }, field: 'id' },
    { name: 'an empty id', body: { image: 'nginx:1', id: '' }, field: 'id' },
    { name: 'an id that is a number', body: { image: 'nginx:1', id: 42 }, field: 'id' },
  ])('rejects $name, naming $field', ({ body, field }) => {
    expect(malformedField(() => normalize(body))).toBe(field);
  });
});
