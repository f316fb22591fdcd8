import { describe, expect, it } from 'vitest';
import type { Notification, NotifyEvent } from '../../src/notify/notification.js';
import { WebhookBodySchema, webhookBodyJsonSchema } from '../../src/notify/notification.js';
import {
  slackMessage,
  summaryLine,
  teamsMessage,
  webhookBody,
} from '../../src/notify/notification-messages.js';
import { dashboardLink, sinksFor, type NotifyRouting } from '../../src/notify/notify-filter.js';
import { notificationJobId } from '../../src/notify/queue-notifier.js';
import { signBody } from '../../src/notify/notification-delivery.js';

const DIGEST = `sha256:${'ab'.repeat(32)}`;
const base: Notification = {
  event: 'succeeded',
  occurredAt: '2026-12-02T05:00:00Z',
  containerVersion: { namespace: 'shop', name: 'api', uid: 'uid-1' },
  version: 'sha-a1b2c3d',
  digest: DIGEST,
  image: `registry.example/shop/api:sha-a1b2c3d@${DIGEST}`,
  reason: 'RolloutSucceeded',
  message: 'rolled out sha-a1b2c3d',
  rolloutId: `${DIGEST}@2026-12-02T04:59:00Z`,
  strategy: 'Rolling',
  trigger: 'push',
};
const all: NotifyRouting = {
  sinks: ['slack', 'teams', 'webhook'],
  events: ['started', 'succeeded', 'failed', 'rolled-back', 'blocked'],
};

describe('sinksFor: the cluster routing narrowed by spec.notify', () => {
  it.each<[string, NotifyEvent, NotifyRouting, Parameters<typeof sinksFor>[2], string[]]>([
    [
      'no narrowing: every configured sink',
      'started',
      all,
      undefined,
      ['slack', 'teams', 'webhook'],
    ],
    [
      'an event the cluster does not send: none',
      'started',
      { ...all, events: ['failed'] },
      undefined,
      [],
    ],
    ['an event the CV does not want: none', 'started', all, { events: ['failed', 'blocked'] }, []],
    [
      'an event the CV wants: every sink',
      'failed',
      all,
      { events: ['failed'] },
      ['slack', 'teams', 'webhook'],
    ],
    ['sinks narrowed', 'failed', all, { sinks: ['webhook'] }, ['webhook']],
    [
      'a CV cannot add a sink the cluster lacks',
      'failed',
      { ...all, sinks: ['slack'] },
      { sinks: ['teams'] },
      [],
    ],
    [
      'a CV cannot add an event the cluster does not send',
      'blocked',
      { ...all, events: ['failed'] },
      { events: ['blocked'] },
      [],
    ],
    ['empty lists mean none', 'failed', all, { sinks: [] }, []],
    [
      'events and sinks together',
      'rolled-back',
      all,
      { events: ['rolled-back'], sinks: ['slack', 'webhook'] },
      ['slack', 'webhook'],
    ],
    ['no sink configured: none', 'failed', { ...all, sinks: [] }, undefined, []],
  ])('%s', (_, event, routing, narrowing, expected) => {
    expect(sinksFor(event, routing, narrowing)).toEqual(expected);
  });
});

describe('dashboardLink', () => {
  it.each([
    [undefined, undefined],
    ['https://cvm.example', 'https://cvm.example/#/cv/shop/api'],
    ['https://cvm.example/ops/', 'https://cvm.example/ops/#/cv/shop/api'],
  ])('%s → %s', (url, expected) => {
    expect(dashboardLink(url, { namespace: 'shop', name: 'api' })).toBe(expected);
  });
});

describe('messages', () => {
  it.each<[NotifyEvent, string]>([
    ['started', 'Rollout started: shop/api sha-a1b2c3d'],
    ['succeeded', 'Rollout succeeded: shop/api sha-a1b2c3d'],
    ['failed', 'Rollout failed: shop/api sha-a1b2c3d'],
    ['rolled-back', 'Rolled back: shop/api sha-a1b2c3d'],
    ['blocked', 'Rollout blocked: shop/api sha-a1b2c3d'],
  ])('the summary of %s names the event, the CV, the version and the digest', (event, start) => {
    expect(summaryLine({ ...base, event })).toBe(`${start} (${DIGEST})`);
  });

  it('Slack: text fallback, fields with CV, version, digest and reason, the message, and the dashboard link', () => {
    const link = 'https://cvm.example/#/cv/shop/api';
    const message = slackMessage({ ...base, message: 'a <b> & c' }, link) as any;
    expect(message.text).toBe(`Rollout succeeded: shop/api sha-a1b2c3d (${DIGEST})`);
    expect(message.blocks[0].text.text).toBe(':white_check_mark: *Rollout succeeded*: shop/api');
    expect(message.blocks[1].fields.map((f: any) => f.text)).toEqual([
      '*ContainerVersion*\nshop/api',
      '*Version*\nsha-a1b2c3d',
      `*Digest*\n\`${DIGEST}\``,
      '*Reason*\nRolloutSucceeded',
    ]);
    // Slack's control characters are escaped, so a message cannot inject links or mentions.
    expect(message.blocks[2].text.text).toBe('a &lt;b&gt; &amp; c');
    expect(message.blocks[3].elements[0].text).toBe(`<${link}|Open shop/api in cvm>`);
    expect(JSON.stringify(slackMessage(base))).not.toContain('Open shop/api');
  });

  it('Teams: a message with one Adaptive Card attachment, facts, and an OpenUrl action with a dashboard', () => {
    const link = 'https://cvm.example/#/cv/shop/api';
    const message = teamsMessage(
      { ...base, event: 'failed', reason: 'ProgressDeadlineExceeded' },
      link,
    ) as any;
    expect(message.type).toBe('message');
    expect(message.attachments).toHaveLength(1);
    const [attachment] = message.attachments;
    expect(attachment.contentType).toBe('application/vnd.microsoft.card.adaptive');
    expect(attachment.content).toMatchObject({ type: 'AdaptiveCard', version: '1.4' });
    expect(attachment.content.body[0]).toMatchObject({
      text: 'Rollout failed: shop/api',
      color: 'Attention',
    });
    expect(attachment.content.body[1].facts).toEqual([
      { title: 'ContainerVersion', value: 'shop/api' },
      { title: 'Version', value: 'sha-a1b2c3d' },
      { title: 'Digest', value: DIGEST },
      { title: 'Reason', value: 'ProgressDeadlineExceeded' },
    ]);
    expect(attachment.content.actions).toEqual([
      { type: 'Action.OpenUrl', title: 'Open in cvm', url: link },
    ]);
    expect(teamsMessage(base).attachments).toBeDefined();
    expect((teamsMessage(base) as any).attachments[0].content.actions).toBeUndefined();
  });

  it('the generic body fits its schema, with and without the optional fields', () => {
    const full = webhookBody(
      base,
      { id: 'd-1', sentAt: '2026-12-02T05:00:01Z' },
      'https://x/#/cv/shop/api',
    );
    expect(WebhookBodySchema.parse(full)).toEqual(full);
    expect(full).toMatchObject({
      schemaVersion: 1,
      id: 'd-1',
      event: 'succeeded',
      dashboardUrl: 'https://x/#/cv/shop/api',
    });
    const { image: _i, rolloutId: _r, strategy: _s, trigger: _t, ...blocked } = base;
    const minimal = webhookBody({ ...blocked, event: 'blocked' }, { id: 'd-2', sentAt: 'now' });
    expect(WebhookBodySchema.safeParse(minimal).success).toBe(true);
    expect(WebhookBodySchema.safeParse({ ...minimal, event: 'exploded' }).success).toBe(false);
    const schema = webhookBodyJsonSchema();
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.required).toEqual(
      expect.arrayContaining([
        'schemaVersion',
        'id',
        'event',
        'containerVersion',
        'digest',
        'message',
      ]),
    );
  });

  it('the signature is sha256=<hex HMAC-SHA256 of the raw body> (RFC 4231 test case 2)', () => {
    expect(signBody('Jefe', 'what do ya want for nothing?')).toBe(
      'sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
  });
});

describe('notificationJobId', () => {
  it('is the same for the same event of the same rollout, differs per sink, event, rollout and CV, and has no colon', () => {
    const id = notificationJobId(base, 'slack');
    expect(id).toBe(notificationJobId({ ...base, message: 'other', occurredAt: 'later' }, 'slack'));
    expect(id).not.toContain(':');
    expect(id.startsWith('succeeded__shop__api__')).toBe(true);
    const others = [
      notificationJobId(base, 'webhook'),
      notificationJobId({ ...base, event: 'started' }, 'slack'),
      notificationJobId({ ...base, rolloutId: 'another' }, 'slack'),
      notificationJobId(
        { ...base, containerVersion: { ...base.containerVersion, uid: 'uid-2' } },
        'slack',
      ),
    ];
    expect(new Set([id, ...others]).size).toBe(5);
    // A blocked digest without a rollout is keyed by the digest.
    const { rolloutId: _r, ...noRollout } = base;
    expect(notificationJobId({ ...noRollout, event: 'blocked' }, 'slack')).toBe(
      notificationJobId({ ...noRollout, event: 'blocked', message: 'again' }, 'slack'),
    );
  });
});
