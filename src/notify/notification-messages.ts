import type { Notification, NotifyEvent, WebhookBody } from './notification.js';
import { WEBHOOK_SCHEMA_VERSION } from './notification.js';

/** A headline per event, in words people read in a channel. */
export const EVENT_TITLES: Record<NotifyEvent, string> = {
  started: 'Rollout started',
  succeeded: 'Rollout succeeded',
  failed: 'Rollout failed',
  'rolled-back': 'Rolled back',
  blocked: 'Rollout blocked',
};

const SLACK_EMOJI: Record<NotifyEvent, string> = {
  started: ':rocket:',
  succeeded: ':white_check_mark:',
  failed: ':x:',
  'rolled-back': ':leftwards_arrow_with_hook:',
  blocked: ':no_entry:',
};

/** Adaptive Card TextBlock colours per event. */
const TEAMS_COLOR: Record<NotifyEvent, string> = {
  started: 'Accent',
  succeeded: 'Good',
  failed: 'Attention',
  'rolled-back': 'Warning',
  blocked: 'Attention',
};

const cvName = (n: Notification) => `${n.containerVersion.namespace}/${n.containerVersion.name}`;

/** Slack's mrkdwn control characters (https://api.slack.com/reference/surfaces/formatting#escaping). */
const slackEscape = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** One line for notification previews and clients without blocks. */
export function summaryLine(n: Notification): string {
  return `${EVENT_TITLES[n.event]}: ${cvName(n)} ${n.version} (${n.digest})`;
}

/**
 * A Slack incoming-webhook message: `text` (the fallback and the push preview) and blocks with the
 * CV, event, version, digest, reason and message, and the dashboard link when there is one. Pure.
 */
export function slackMessage(n: Notification, dashboardUrl?: string): Record<string, unknown> {
  const fields = [
    `*ContainerVersion*\n${slackEscape(cvName(n))}`,
    `*Version*\n${slackEscape(n.version)}`,
    `*Digest*\n\`${slackEscape(n.digest)}\``,
    `*Reason*\n${slackEscape(n.reason)}`,
  ];
  const blocks: Record<string, unknown>[] = [
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: `${SLACK_EMOJI[n.event]} *${EVENT_TITLES[n.event]}*: ${slackEscape(cvName(n))}`,
      },
    },
    { type: 'section', fields: fields.map((text) => ({ type: 'mrkdwn', text })) },
  ];
  if (n.message)
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: slackEscape(n.message) } });
  if (dashboardUrl)
    blocks.push({
      type: 'context',
      elements: [
        { type: 'mrkdwn', text: `<${dashboardUrl}|Open ${slackEscape(cvName(n))} in cvm>` },
      ],
    });
  return { text: slackEscape(summaryLine(n)), blocks };
}

/**
 * A Microsoft Teams message for a Workflows "When a Teams webhook request is received" flow (or
 * a legacy incoming webhook): a `message` with one Adaptive Card 1.4 attachment, as Microsoft
 * documents for webhooks. Pure.
 */
export function teamsMessage(n: Notification, dashboardUrl?: string): Record<string, unknown> {
  const card: Record<string, unknown> = {
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    type: 'AdaptiveCard',
    version: '1.4',
    body: [
      {
        type: 'TextBlock',
        size: 'Medium',
        weight: 'Bolder',
        color: TEAMS_COLOR[n.event],
        text: `${EVENT_TITLES[n.event]}: ${cvName(n)}`,
        wrap: true,
      },
      {
        type: 'FactSet',
        facts: [
          { title: 'ContainerVersion', value: cvName(n) },
          { title: 'Version', value: n.version },
          { title: 'Digest', value: n.digest },
          { title: 'Reason', value: n.reason },
        ],
      },
      ...(n.message ? [{ type: 'TextBlock', text: n.message, wrap: true }] : []),
    ],
    ...(dashboardUrl
      ? { actions: [{ type: 'Action.OpenUrl', title: 'Open in cvm', url: dashboardUrl }] }
      : {}),
  };
  return {
    type: 'message',
    summary: summaryLine(n),
    attachments: [
      { contentType: 'application/vnd.microsoft.card.adaptive', contentUrl: null, content: card },
    ],
  };
}

/** The generic webhook's body (the documented {@link WebhookBody}) for one delivery attempt. Pure. */
export function webhookBody(
  n: Notification,
  delivery: { id: string; sentAt: string },
  dashboardUrl?: string,
): WebhookBody {
  return {
    schemaVersion: WEBHOOK_SCHEMA_VERSION,
    id: delivery.id,
    sentAt: delivery.sentAt,
    ...n,
    ...(dashboardUrl ? { dashboardUrl } : {}),
  };
}
