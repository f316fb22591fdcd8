import { z } from 'zod';
import {
  NOTIFY_EVENTS,
  NOTIFY_SINKS,
  type NotifyEvent,
  type NotifySink,
} from '../api/container-version.js';

/**
 * One thing a rollout tells people about, as the workers hand it to the {@link Notifier} port.
 * Identity and the facts of the moment only; each sink formats it its own way.
 */
export interface Notification {
  event: NotifyEvent;
  /** When it happened (RFC 3339). */
  occurredAt: string;
  containerVersion: { namespace: string; name: string; uid: string };
  version: string;
  digest: string;
  /** The image the workloads get (`repo:version@digest`), when known. */
  image?: string;
  /** What ran before, when known (succeeded, rolled-back). */
  previousImage?: string;
  /** The CamelCase reason of the CV's condition (PlatformMissing, KnownBadDigest, …). */
  reason: string;
  message: string;
  /** The rollout's id (`status.rollout.id`); absent for a blocked image that never started one. */
  rolloutId?: string;
  strategy?: string;
  /** What brought the rollout: push, poll, drift, … */
  trigger?: string;
}

/** One delivery to one sink: what the `notifications` queue holds (no URL, no secret: those stay in config). */
export interface NotificationJobData {
  sink: NotifySink;
  notification: Notification;
}

/** Version of the generic webhook body; raised only for a change that is not backward compatible. */
export const WEBHOOK_SCHEMA_VERSION = 1;

/**
 * The body of the generic JSON webhook (CVM_NOTIFY_WEBHOOK_URL), the documented contract. Fields
 * may be added in the same `schemaVersion`; receivers should ignore fields they do not know.
 */
export const WebhookBodySchema = z
  .object({
    schemaVersion: z.literal(WEBHOOK_SCHEMA_VERSION),
    id: z
      .string()
      .min(1)
      .describe('Delivery id, the same on every retry (also X-Cvm-Delivery): dedupe on it.'),
    event: z.enum(NOTIFY_EVENTS),
    sentAt: z
      .string()
      .describe('When this attempt was sent (RFC 3339); X-Cvm-Timestamp has it in Unix seconds.'),
    occurredAt: z.string().describe('When the event happened (RFC 3339).'),
    containerVersion: z.object({
      namespace: z.string().min(1),
      name: z.string().min(1),
      uid: z.string(),
    }),
    version: z.string(),
    digest: z.string(),
    image: z.string().optional(),
    previousImage: z.string().optional(),
    reason: z.string(),
    message: z.string(),
    rolloutId: z.string().optional(),
    strategy: z.string().optional(),
    trigger: z.string().optional(),
    dashboardUrl: z
      .string()
      .optional()
      .describe("The CV's page on the dashboard, when CVM_DASHBOARD_URL is set."),
  })
  .describe('A cvm rollout notification (generic webhook body).');
export type WebhookBody = z.output<typeof WebhookBodySchema>;

/** The JSON Schema (draft 2020-12) of {@link WebhookBodySchema}, for receivers. */
export const webhookBodyJsonSchema = (): Record<string, unknown> =>
  z.toJSONSchema(WebhookBodySchema, { target: 'draft-2020-12' });

export { NOTIFY_EVENTS, NOTIFY_SINKS, type NotifyEvent, type NotifySink };
