import { describe, expect, it } from 'vitest';
import type { Normalized } from '../../../src/events/push-event.js';
import { normalizeAcr } from '../../../src/events/sources/acr.js';
import { delivery, fixture, malformedField, pushEvent, withField } from './fixtures.js';

const INDEX = 'sha256:1bc04b5291c26a46d918139138b992d2de976d6851d0893b0476b85bfbdfc6e6';
const CHILD = 'sha256:5861314d7fccb39c2192173240eab44fa35ca66426201ca2acd0630a6258dd51';

const normalize = (body: unknown) => normalizeAcr(delivery(body));
const ignored = (reason: string): Normalized => ({ events: [], ignored: [reason] });

describe('normalizeAcr', () => {
  it.each<{ name: string; fixture: string; expected: Normalized }>([
    {
      name: 'the documented push is one push event on request.host, time cut to milliseconds',
      fixture: 'push-documented',
      expected: {
        events: [
          pushEvent('acr', {
            registry: 'myregistry.azurecr.io',
            repository: 'hello-world',
            tag: 'v1',
            digest: 'sha256:80f0d5c8786bb9e621a45ece0db56d11cdc624ad20da9fe62e9d25490f331d7d',
            sourceEventId: 'cb8c3971-9adc-488b-bdd8-43cbb4974ff5',
            occurredAt: '2023-11-17T16:52:01.343Z',
          }),
        ],
        ignored: [],
      },
    },
    {
      name: 'a push of an index to a mixed-case host gets a lower-case registry',
      fixture: 'push-index-mixed-case-host',
      expected: {
        events: [
          pushEvent('acr', {
            registry: 'myregistry.azurecr.io',
            repository: 'team/api',
            tag: '1.4.2',
            digest: INDEX,
            sourceEventId: '8d7c6b5a-4938-4726-a514-03f2e1d0c9b8',
            occurredAt: '2025-03-04T10:15:03.402Z',
          }),
        ],
        ignored: [],
      },
    },
    {
      name: 'a push without a tag is ignored',
      fixture: 'push-untagged',
      expected: ignored(`push of an untagged manifest (${CHILD})`),
    },
    {
      name: 'a delete is ignored',
      fixture: 'delete',
      expected: ignored('ACR action "delete" is not a push'),
    },
    {
      name: 'a ping is ignored',
      fixture: 'ping',
      expected: ignored('ACR action "ping" is not a push'),
    },
    {
      name: 'a Helm chart push is ignored',
      fixture: 'chart-push',
      expected: ignored('ACR action "chart_push" is not a push'),
    },
  ])('$name', ({ fixture: name, expected }) => {
    expect(normalize(fixture('acr', name))).toEqual(expected);
  });

  it.each(['quarantine', 'chart_delete'])('action %s is ignored', (action) => {
    const body = withField(fixture('acr', 'delete'), ['action'], action);
    expect(normalize(body)).toEqual(ignored(`ACR action "${action}" is not a push`));
  });

  const push = fixture('acr', 'push-documented');
  it.each<{ name: string; body: unknown; field: string }>([
    { name: 'a body that is an array', body: [push], field: '(body)' },
    { name: 'a missing action', body: withField(push, ['action'], undefined), field: 'action' },
    { name: 'a missing target', body: withField(push, ['target'], undefined), field: 'target' },
    {
      name: 'a missing repository',
      body: withField(push, ['target', 'repository'], undefined),
      field: 'target.repository',
    },
    {
      name: 'the documented masked digest',
      body: withField(
        push,
        ['target', 'digest'],
        'sha256:xxxxd5c8786bb9e621a45ece0dbxxxx1cdc624ad20da9fe62e9d25490f33xxxx',
      ),
      field: 'target.digest',
    },
    { name: 'a missing request', body: withField(push, ['request'], undefined), field: 'request' },
    {
      name: 'a request.host that is no host',
      body: withField(push, ['request', 'host'], 'myregistry'),
      field: 'request.host',
    },
    {
      name: 'a tag that is a number',
      body: withField(push, ['target', 'tag'], 1),
      field: 'target.tag',
    },
    {
      name: 'an invalid timestamp',
      body: withField(push, ['timestamp'], '17/11/2023'),
      field: 'timestamp',
    },
  ])('rejects $name, naming $field', ({ body, field }) => {
    expect(malformedField(() => normalize(body))).toBe(field);
  });
});
