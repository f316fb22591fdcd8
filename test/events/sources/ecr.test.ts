import { describe, expect, it } from 'vitest';
import type { Normalized } from '../../../src/events/push-event.js';
import { QUEUE_ACCOUNT_HEADER, normalizeEcr } from '../../../src/events/sources/ecr.js';
import {
  delivery,
  fixture,
  malformedField,
  rejectedField,
  pushEvent,
  withField,
} from './fixtures.js';

const DOC_DIGEST = 'sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd12345678';
const INDEX = 'sha256:1bc04b5291c26a46d918139138b992d2de976d6851d0893b0476b85bfbdfc6e6';
const ARM = 'sha256:36ddf65954f810a639e6ee52fd8a5bab56214befb3b633edd2d672f4cbda990b';
const EU_REGISTRY = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';

const ecr = (fields: Parameters<typeof pushEvent>[1]) => pushEvent('ecr', fields);
const ignored = (reason: string): Normalized => ({ events: [], ignored: [reason] });

const indexPush = ecr({
  registry: EU_REGISTRY,
  repository: 'team/api',
  tag: '1.4.2',
  digest: INDEX,
  sourceEventId: '15ee8997-553d-47ff-878a-959d10a9f031',
  occurredAt: '2025-03-04T10:15:03.000Z',
});

describe('normalizeEcr', () => {
  it.each<{ name: string; fixture: string; expected: Normalized }>([
    {
      name: 'the documented push of a tag is one push event on the account and region registry',
      fixture: 'push-documented',
      expected: {
        events: [
          ecr({
            registry: '123456789012.dkr.ecr.us-west-2.amazonaws.com',
            repository: 'my-repository-name',
            tag: 'latest',
            digest: DOC_DIGEST,
            sourceEventId: '13cde686-328b-6117-af20-0e5566167482',
            occurredAt: '2019-11-16T01:54:34.000Z',
          }),
        ],
        ignored: [],
      },
    },
    {
      name: 'the tagged index of a multi-arch push is a push event',
      fixture: 'multiarch-index-tagged',
      expected: { events: [indexPush], ignored: [] },
    },
    {
      name: 'an SNS notification is unwrapped to the same push event',
      fixture: 'sns-wrapped-push',
      expected: { events: [indexPush], ignored: [] },
    },
    {
      name: 'a China region gets the amazonaws.com.cn registry',
      fixture: 'push-china-region',
      expected: {
        events: [
          ecr({
            registry: '210987654321.dkr.ecr.cn-north-1.amazonaws.com.cn',
            repository: 'platform/worker',
            tag: '2025.03.04-1',
            digest: ARM,
            sourceEventId: '7d6c5b4a-3928-4716-a5b4-c3d2e1f0a9b8',
            occurredAt: '2019-11-16T01:54:34.000Z',
          }),
        ],
        ignored: [],
      },
    },
    {
      name: 'a completed scan of a tagged image is one scan event per tag',
      fixture: 'scan-tagged',
      expected: {
        events: ['1.4.2', 'latest'].map((tag) =>
          ecr({
            kind: 'scan',
            registry: EU_REGISTRY,
            repository: 'team/api',
            tag,
            digest: INDEX,
            sourceEventId: `a1e0b6f2-6c3e-4d8a-9b1f-2e7c5d4a3b21/${tag}`,
            occurredAt: '2025-03-04T10:16:40.000Z',
          }),
        ),
        ignored: [],
      },
    },
    {
      name: 'an untagged push (the captured event with an empty tag) is ignored',
      fixture: 'push-untagged-capture',
      expected: ignored(
        'push of an untagged image (sha256:778645862e8bba7ad64eabc8f6b51158e47124c12864ed42d7baf744b6329542)',
      ),
    },
    {
      name: 'an untagged child of a multi-arch push is ignored',
      fixture: 'multiarch-child-untagged',
      expected: ignored(
        'push of an untagged image (sha256:5861314d7fccb39c2192173240eab44fa35ca66426201ca2acd0630a6258dd51)',
      ),
    },
    {
      name: 'a push without an image-tag field is ignored as untagged',
      fixture: 'multiarch-child-no-tag-field',
      expected: ignored(`push of an untagged image (${ARM})`),
    },
    {
      name: 'a delete is ignored',
      fixture: 'delete-documented',
      expected: ignored('ECR image action "DELETE" is not a push'),
    },
    {
      name: 'a push that did not succeed is ignored',
      fixture: 'push-failure',
      expected: ignored('ECR push did not succeed (result "FAILURE")'),
    },
    {
      name: 'the documented scan of an untagged image is ignored',
      fixture: 'scan-documented-untagged',
      expected: ignored('scan of an untagged image'),
    },
    {
      name: 'a failed scan is ignored',
      fixture: 'scan-failed',
      expected: ignored('ECR scan status "FAILED"'),
    },
    {
      name: 'a replication event is an unsupported event type',
      fixture: 'replication-action',
      expected: ignored('unsupported event type "ECR Replication Action" from "aws.ecr"'),
    },
    {
      name: 'an Inspector scan is an unsupported event type',
      fixture: 'inspector2-scan',
      expected: ignored('unsupported event type "Inspector2 Scan" from "aws.inspector2"'),
    },
  ])('$name', ({ fixture: name, expected }) => {
    expect(normalizeEcr(delivery(fixture('ecr', name)))).toEqual(expected);
  });

  it('a scan listing a tag twice gives one event for it', () => {
    const body = withField(
      fixture('ecr', 'scan-tagged'),
      ['detail', 'image-tags'],
      ['1.4.2', '1.4.2'],
    );
    expect(normalizeEcr(delivery(body)).events.map((e) => e.tag)).toEqual(['1.4.2']);
  });

  it('an SNS subscription confirmation is ignored', () => {
    const body = { Type: 'SubscriptionConfirmation', Message: 'You have chosen to subscribe…' };
    expect(normalizeEcr(delivery(body))).toEqual(
      ignored('SNS message type "SubscriptionConfirmation"'),
    );
  });

  const push = fixture('ecr', 'push-documented');
  const scan = fixture('ecr', 'scan-tagged');
  it.each<{ name: string; body: unknown; field: string }>([
    { name: 'a body that is no object', body: ['not', 'an', 'event'], field: '(body)' },
    { name: 'a missing source', body: withField(push, ['source'], undefined), field: 'source' },
    {
      name: 'a numeric detail-type',
      body: withField(push, ['detail-type'], 7),
      field: 'detail-type',
    },
    { name: 'a missing detail', body: withField(push, ['detail'], undefined), field: 'detail' },
    {
      name: 'a detail that is a string',
      body: withField(push, ['detail'], 'PUSH'),
      field: 'detail',
    },
    {
      name: 'a missing repository name',
      body: withField(push, ['detail', 'repository-name'], undefined),
      field: 'detail.repository-name',
    },
    {
      name: 'an upper-case repository name',
      body: withField(push, ['detail', 'repository-name'], 'Team/API'),
      field: 'detail.repository-name',
    },
    {
      name: 'the documented placeholder digest (60 hex characters)',
      body: withField(
        push,
        ['detail', 'image-digest'],
        'sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd1234',
      ),
      field: 'detail.image-digest',
    },
    {
      name: 'a missing digest of a scan',
      body: withField(scan, ['detail', 'image-digest'], undefined),
      field: 'detail.image-digest',
    },
    { name: 'a missing account', body: withField(push, ['account'], undefined), field: 'account' },
    {
      name: 'an account of 11 digits',
      body: withField(push, ['account'], '12345678901'),
      field: 'account',
    },
    {
      name: 'a region that is no region',
      body: withField(push, ['region'], 'us west 2'),
      field: 'region',
    },
    {
      name: 'a time that is no RFC 3339',
      body: withField(push, ['time'], 'yesterday'),
      field: 'time',
    },
    {
      name: 'an invalid tag',
      body: withField(push, ['detail', 'image-tag'], '-x'),
      field: 'detail.image-tag',
    },
    {
      name: 'a scan tag that is no string',
      body: withField(scan, ['detail', 'image-tags'], ['1.4.2', 3]),
      field: 'detail.image-tags[1]',
    },
    {
      name: 'an SNS message that is not JSON',
      body: { Type: 'Notification', Message: '{"version":' },
      field: 'Message',
    },
    {
      name: 'a malformed event inside an SNS message, named by its path there',
      body: { Type: 'Notification', Message: JSON.stringify(withField(push, ['region'], 7)) },
      field: 'Message.region',
    },
  ])('rejects $name, naming $field', ({ body, field }) => {
    expect(rejectedField(() => normalizeEcr(delivery(body)))).toBe(field);
  });
});

describe('normalizeEcr without account (moto leaves it out)', () => {
  const withoutAccount = () => {
    const body = fixture('ecr', 'push-documented');
    delete body.account;
    return body;
  };

  it('uses the account of the SQS queue the event arrived on', () => {
    const result = normalizeEcr(
      delivery(withoutAccount(), { [QUEUE_ACCOUNT_HEADER]: '210987654321' }),
    );
    expect(result.events.map((e) => e.registry)).toEqual([
      '210987654321.dkr.ecr.us-west-2.amazonaws.com',
    ]);
  });

  it('is malformed when no queue account is known', () => {
    expect(malformedField(() => normalizeEcr(delivery(withoutAccount())))).toBe('account');
  });
});
