import { parseRetryAfterMs } from '../registry/retry-after.js';
import { createHmac } from 'node:crypto';
import type { Logger } from '../observability/logger.js';
import { PermanentJobError, RetryLaterError } from '../queue/job-errors.js';
import type { NotificationJobData, NotifySink } from './notification.js';
import { slackMessage, teamsMessage, webhookBody } from './notification-messages.js';
import { dashboardLink } from './notify-filter.js';

/** Where each configured sink is; a sink without a URL is not configured. */
export interface SinkTargets {
  slack?: string;
  teams?: string;
  webhook?: { url: string; secret: string };
}

/** How one delivery attempt ended, for metrics. */
export type DeliveryResult = 'delivered' | 'failed' | 'rejected';

export interface NotificationDeliveryOptions {
  targets: SinkTargets;
  /** Longest one HTTP request to a sink may take (CVM_NOTIFY_TIMEOUT_MS); a sink that hangs fails the attempt. */
  timeoutMs: number;
  /** Base URL of the dashboard (CVM_DASHBOARD_URL): messages link to the CV's page. */
  dashboardUrl?: string;
  logger: Logger;
  now?: () => Date;
  onResult?: (sink: NotifySink, result: DeliveryResult) => void;
}

/** Headers of the generic webhook (documented in the README, "Notifications"). */
export const WEBHOOK_HEADERS = {
  signature: 'x-cvm-signature-256',
  timestamp: 'x-cvm-timestamp',
  delivery: 'x-cvm-delivery',
  event: 'x-cvm-event',
} as const;

/** `sha256=<hex>`: HMAC-SHA256 of the raw body with the shared secret, as GitHub signs. */
export const signBody = (secret: string, body: string): string =>
  `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

/** A sink answered in a way that a retry may fix (5xx, 408, a timeout, a refused connection). */
export class SinkUnavailableError extends Error {
  override readonly name = 'SinkUnavailableError';
}

/**
 * Sends one queued notification to its sink, one HTTP POST bounded by `timeoutMs`. What the
 * answer means for the queue: 2xx delivered; 429 retried after its Retry-After (without spending
 * an attempt) or with backoff; 408 and 5xx, timeouts and network errors retried with backoff
 * ({@link SinkUnavailableError}); any other 4xx is a {@link PermanentJobError} (a revoked Slack
 * URL does not heal by retrying). The delivery id is the job id, the same on every retry.
 */
export class NotificationDelivery {
  readonly #now: () => Date;

  constructor(private readonly options: NotificationDeliveryOptions) {
    this.#now = options.now ?? (() => new Date());
  }

  async deliver(
    data: NotificationJobData,
    job: { id: string; attemptsMade: number },
  ): Promise<void> {
    const { sink, notification } = data;
    const log = this.options.logger.child({
      sink,
      event: notification.event,
      cv: `${notification.containerVersion.namespace}/${notification.containerVersion.name}`,
      deliveryId: job.id,
    });
    const request = this.#request(data, job.id);
    if (!request) {
      this.options.onResult?.(sink, 'rejected');
      throw new PermanentJobError(`notification sink ${sink} is not configured (CVM_NOTIFY_*)`);
    }
    try {
      await this.#post(request.url, request.headers, request.body);
    } catch (error) {
      const permanent = error instanceof PermanentJobError;
      this.options.onResult?.(sink, permanent ? 'rejected' : 'failed');
      log.warn(
        { attemptsMade: job.attemptsMade, err: { message: (error as Error).message } },
        permanent ? 'notification rejected' : 'notification not delivered',
      );
      throw error;
    }
    this.options.onResult?.(sink, 'delivered');
    log.info({ attemptsMade: job.attemptsMade }, 'notification delivered');
  }

  #request(
    data: NotificationJobData,
    id: string,
  ): { url: string; headers: Record<string, string>; body: string } | undefined {
    const { targets, dashboardUrl } = this.options;
    const n = data.notification;
    const link = dashboardLink(dashboardUrl, n.containerVersion);
    const json = { 'content-type': 'application/json', 'user-agent': 'cvm-notify' };
    if (data.sink === 'slack' && targets.slack)
      return { url: targets.slack, headers: json, body: JSON.stringify(slackMessage(n, link)) };
    if (data.sink === 'teams' && targets.teams)
      return { url: targets.teams, headers: json, body: JSON.stringify(teamsMessage(n, link)) };
    if (data.sink === 'webhook' && targets.webhook) {
      const now = this.#now();
      const body = JSON.stringify(webhookBody(n, { id, sentAt: now.toISOString() }, link));
      return {
        url: targets.webhook.url,
        headers: {
          ...json,
          [WEBHOOK_HEADERS.signature]: signBody(targets.webhook.secret, body),
          [WEBHOOK_HEADERS.timestamp]: String(Math.floor(now.getTime() / 1000)),
          [WEBHOOK_HEADERS.delivery]: id,
          [WEBHOOK_HEADERS.event]: n.event,
        },
        body,
      };
    }
    return undefined;
  }

  async #post(url: string, headers: Record<string, string>, body: string): Promise<void> {
    const signal = AbortSignal.timeout(this.options.timeoutMs);
    let response: Response;
    try {
      response = await fetch(url, { method: 'POST', headers, body, signal, redirect: 'error' });
      // Read (and drop) the answer within the same bound, so the connection is released.
      await response.arrayBuffer();
    } catch (error) {
      const timedOut = (error as Error).name === 'TimeoutError';
      throw new SinkUnavailableError(
        timedOut
          ? `no answer within ${this.options.timeoutMs} ms`
          : `request failed: ${(error as Error).message}`,
        { cause: error },
      );
    }
    const status = response.status;
    if (status >= 200 && status < 300) return;
    if (status === 429) {
      // Delay-seconds or an HTTP date; without one, the queue's own backoff.
      const waitMs = parseRetryAfterMs(response.headers.get('retry-after'), Date.now(), -1);
      if (waitMs > 0)
        throw new RetryLaterError(
          `the sink answered 429; retry after ${Math.ceil(waitMs / 1000)} s`,
          waitMs,
        );
      throw new SinkUnavailableError('the sink answered 429');
    }
    if (status === 408 || status >= 500)
      throw new SinkUnavailableError(`the sink answered ${status}`);
    throw new PermanentJobError(`the sink answered ${status}`);
  }
}
