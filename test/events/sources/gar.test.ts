import { describe, expect, it } from 'vitest';
import type { Normalized } from '../../../src/events/push-event.js';
import { normalizeGar } from '../../../src/events/sources/gar.js';
import { delivery, fixture, malformedField, pushEvent } from './fixtures.js';

const HELLO = 'sha256:b974ebb9a97901339d70cbd59a98baeb15228d9f39e326d41014aa938512c4e9';
const INDEX = 'sha256:1bc04b5291c26a46d918139138b992d2de976d6851d0893b0476b85bfbdfc6e6';
const CHILD = 'sha256:5861314d7fccb39c2192173240eab44fa35ca66426201ca2acd0630a6258dd51';
const ACME = 'europe-west1-docker.pkg.dev/acme-prod/images';

const gar = (fields: Parameters<typeof pushEvent>[1]) => pushEvent('gar', fields);
const ignored = (reason: string): Normalized => ({ events: [], ignored: [reason] });

/** A Pub/Sub push envelope around `data`, as the push subscription sends it. */
const envelope = (data: unknown, raw?: string) => ({
  message: {
    data: raw ?? Buffer.from(JSON.stringify(data)).toString('base64'),
    messageId: '2070443601311999',
    publishTime: '2025-03-04T10:15:03.749Z',
  },
  subscription: 'projects/acme-prod/subscriptions/cvm',
});

describe('normalizeGar', () => {
  it.each<{
    name: string;
    fixture: string;
    headers?: Record<string, string>;
    expected: Normalized;
  }>([
    {
      name: 'the documented INSERT with a tag is one push event, split from the full references',
      fixture: 'insert-documented',
      expected: {
        events: [
          gar({
            registry: 'us-east1-docker.pkg.dev',
            repository: 'my-project/my-repo/hello-world',
            tag: '1.1',
            digest: HELLO,
            sourceEventId: '2070443601311540',
            occurredAt: '2025-03-04T10:15:03.749Z',
          }),
        ],
        ignored: [],
      },
    },
    {
      name: 'an envelope with only camelCase metadata',
      fixture: 'insert-camel-case-only',
      expected: {
        events: [
          gar({
            registry: 'europe-west1-docker.pkg.dev',
            repository: 'acme-prod/images/team/api',
            tag: '1.4.2',
            digest: INDEX,
            sourceEventId: '2070443601311540',
          }),
        ],
        ignored: [],
      },
    },
    {
      name: 'a legacy gcr.io INSERT',
      fixture: 'insert-gcr-legacy',
      expected: {
        events: [
          gar({
            registry: 'gcr.io',
            repository: 'acme-legacy/api',
            tag: 'latest',
            digest: INDEX,
            sourceEventId: '2070443601311777',
            occurredAt: '2025-03-04T10:20:00.500Z',
          }),
        ],
        ignored: [],
      },
    },
    {
      name: 'an unwrapped delivery takes id and time from the metadata headers',
      fixture: 'unwrapped-insert',
      headers: {
        'x-goog-pubsub-message-id': '2070443601311888',
        'x-goog-pubsub-publish-time': '2025-03-04T10:15:03.749Z',
        'x-goog-pubsub-subscription-name': 'projects/acme-prod/subscriptions/cvm',
      },
      expected: {
        events: [
          gar({
            registry: 'europe-west1-docker.pkg.dev',
            repository: 'acme-prod/images/api',
            tag: '1.4.2',
            digest: INDEX,
            sourceEventId: '2070443601311888',
            occurredAt: '2025-03-04T10:15:03.749Z',
          }),
        ],
        ignored: [],
      },
    },
    {
      name: 'an unwrapped delivery without metadata headers has no id or time',
      fixture: 'unwrapped-insert',
      expected: {
        events: [
          gar({
            registry: 'europe-west1-docker.pkg.dev',
            repository: 'acme-prod/images/api',
            tag: '1.4.2',
            digest: INDEX,
          }),
        ],
        ignored: [],
      },
    },
    {
      name: 'a digest-only INSERT is ignored as untagged',
      fixture: 'insert-digest-only',
      expected: ignored(`push of an untagged image (${CHILD})`),
    },
    {
      name: 'a tag deletion is ignored',
      fixture: 'delete-tag',
      expected: ignored('Artifact Registry action "DELETE" is not a push'),
    },
    {
      name: 'an image deletion is ignored',
      fixture: 'delete-image',
      expected: ignored('Artifact Registry action "DELETE" is not a push'),
    },
  ])('$name', ({ fixture: name, headers, expected }) => {
    expect(normalizeGar(delivery(fixture('gar', name), headers))).toEqual(expected);
  });

  it('an INSERT with a tag but no digest is a push event without digest', () => {
    const body = envelope({ action: 'INSERT', tag: `${ACME}/api:1.4.2` });
    expect(normalizeGar(delivery(body)).events).toEqual([
      gar({
        registry: 'europe-west1-docker.pkg.dev',
        repository: 'acme-prod/images/api',
        tag: '1.4.2',
        sourceEventId: '2070443601311999',
        occurredAt: '2025-03-04T10:15:03.749Z',
      }),
    ]);
  });

  it('URL-safe base64 without padding is accepted', () => {
    const data = { action: 'INSERT', tag: `${ACME}/api:1.4.2` };
    const raw = Buffer.from(JSON.stringify(data)).toString('base64url');
    expect(normalizeGar(delivery(envelope(data, raw))).events).toHaveLength(1);
  });

  it.each<{ name: string; body: unknown; headers?: Record<string, string>; field: string }>([
    { name: 'data that is not base64', body: envelope(null, 'not base64!'), field: 'message.data' },
    {
      name: 'base64 data that is not JSON',
      body: envelope(null, Buffer.from('{"action":').toString('base64')),
      field: 'message.data',
    },
    {
      name: 'base64 data that is not UTF-8',
      body: envelope(null, Buffer.from([0xff, 0xfe, 0x7b]).toString('base64')),
      field: 'message.data',
    },
    { name: 'empty data', body: envelope(null, ''), field: 'message.data' },
    { name: 'data that is a number', body: { message: { data: 7 } }, field: 'message.data' },
    { name: 'decoded data that is no object', body: envelope(['INSERT']), field: 'message.data' },
    {
      name: 'a missing action',
      body: envelope({ tag: `${ACME}/api:1` }),
      field: 'message.data.action',
    },
    {
      name: 'a tag that is no reference',
      body: envelope({ action: 'INSERT', tag: 'Not A Ref' }),
      field: 'message.data.tag',
    },
    {
      name: 'a tag reference without tag',
      body: envelope({ action: 'INSERT', tag: `${ACME}/api` }),
      field: 'message.data.tag',
    },
    {
      name: 'a tag reference with a digest',
      body: envelope({ action: 'INSERT', tag: `${ACME}/api:1@${INDEX}` }),
      field: 'message.data.tag',
    },
    {
      name: 'a digest reference without digest',
      body: envelope({ action: 'INSERT', digest: `${ACME}/api:1`, tag: `${ACME}/api:1` }),
      field: 'message.data.digest',
    },
    {
      name: 'a digest of another repository than the tag',
      body: envelope({ action: 'INSERT', digest: `${ACME}/web@${INDEX}`, tag: `${ACME}/api:1` }),
      field: 'message.data.digest',
    },
    {
      name: 'an invalid publishTime',
      body: { message: { ...envelope({ action: 'DELETE' }).message, publishTime: 'soon' } },
      field: 'message.publishTime',
    },
    {
      name: 'an unwrapped body that is no object',
      body: 'INSERT',
      field: '(body)',
    },
    {
      name: 'an invalid publish time header of an unwrapped delivery',
      body: fixture('gar', 'unwrapped-insert'),
      headers: { 'x-goog-pubsub-publish-time': 'soon' },
      field: 'headers.x-goog-pubsub-publish-time',
    },
  ])('rejects $name, naming $field', ({ body, headers, field }) => {
    expect(malformedField(() => normalizeGar(delivery(body, headers)))).toBe(field);
  });
});
