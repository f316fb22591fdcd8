import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  NotificationDelivery,
  SinkUnavailableError,
  signBody,
  type DeliveryResult,
} from '../../src/notify/notification-delivery.js';
import type { Notification } from '../../src/notify/notification.js';
import { WebhookBodySchema } from '../../src/notify/notification.js';
import { PermanentJobError, RetryLaterError } from '../../src/queue/job-errors.js';
import { capturingLogger } from '../support/receiver-parts.js';
import { startNotifySink, type NotifySink } from '../support/notify-sink.js';

const SECRET = 'delivery-test-secret-0123';
const notification: Notification = {
  event: 'blocked',
  occurredAt: '2026-12-02T05:00:00Z',
  containerVersion: { namespace: 'shop', name: 'api', uid: 'u' },
  version: 'v2',
  digest: `sha256:${'cd'.repeat(32)}`,
  reason: 'PlatformMissing',
  message: 'the image has no linux/amd64 variant',
};

let sink: NotifySink;
const results: DeliveryResult[] = [];
let delivery: NotificationDelivery;
/** The same with a short timeout, for the sink that hangs. */
let impatient: NotificationDelivery;

beforeAll(async () => {
  sink = await startNotifySink();
  delivery = new NotificationDelivery({
    targets: { slack: sink.url, webhook: { url: sink.url, secret: SECRET } },
    timeoutMs: 5_000,
    logger: capturingLogger().logger,
    now: () => new Date('2026-12-02T05:00:07Z'),
    onResult: (_sink, result) => results.push(result),
  });
  impatient = new NotificationDelivery({
    targets: { slack: sink.url },
    timeoutMs: 300,
    logger: capturingLogger().logger,
  });
});

afterAll(async () => {
  await sink?.stop();
});

const job = { id: 'blocked__shop__api__x__webhook', attemptsMade: 0 };

describe('NotificationDelivery against a local HTTP sink', () => {
  it('the generic webhook gets a signed body with timestamp, delivery id and event headers', async () => {
    await delivery.deliver({ sink: 'webhook', notification }, job);
    const got = sink.requests.at(-1)!;
    expect(got.headers['x-cvm-signature-256']).toBe(signBody(SECRET, got.raw));
    expect(got.headers['x-cvm-timestamp']).toBe(String(Date.parse('2026-12-02T05:00:07Z') / 1000));
    expect(got.headers['x-cvm-delivery']).toBe(job.id);
    expect(got.headers['x-cvm-event']).toBe('blocked');
    expect(got.headers['content-type']).toBe('application/json');
    expect(WebhookBodySchema.parse(got.body)).toMatchObject({
      id: job.id,
      sentAt: '2026-12-02T05:00:07.000Z',
      event: 'blocked',
      reason: 'PlatformMissing',
    });
    expect(results.at(-1)).toBe('delivered');
  });

  it.each([
    ['500 is retried with backoff', 500, undefined, SinkUnavailableError, 'failed'],
    ['408 is retried with backoff', 408, undefined, SinkUnavailableError, 'failed'],
    ['404 (a revoked URL) is not retried', 404, undefined, PermanentJobError, 'rejected'],
    ['429 with Retry-After waits that long', 429, '7', RetryLaterError, 'failed'],
    [
      '429 without Retry-After is retried with backoff',
      429,
      undefined,
      SinkUnavailableError,
      'failed',
    ],
  ])('%s', async (_, status, retryAfter, errorClass, result) => {
    sink.state.status = status;
    sink.state.headers = retryAfter ? { 'retry-after': retryAfter } : {};
    try {
      const error = await delivery.deliver({ sink: 'slack', notification }, job).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(errorClass);
      expect(results.at(-1)).toBe(result);
      if (retryAfter) expect((error as RetryLaterError).retryAfterMs).toBe(7_000);
    } finally {
      sink.state.status = 200;
      sink.state.headers = {};
    }
  });

  it('a sink that hangs fails the attempt after the timeout', async () => {
    sink.state.hang = true;
    const started = Date.now();
    const error = await impatient.deliver({ sink: 'slack', notification }, job).then(
      () => undefined,
      (e: unknown) => e,
    );
    sink.release();
    expect(error).toBeInstanceOf(SinkUnavailableError);
    expect((error as Error).message).toBe('no answer within 300 ms');
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('a sink that is not configured (any more) is rejected for good', async () => {
    await expect(delivery.deliver({ sink: 'teams', notification }, job)).rejects.toThrow(
      PermanentJobError,
    );
  });
});
