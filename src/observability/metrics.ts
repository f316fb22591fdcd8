import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Outcome label of a webhook request or SQS message. */
export type IntakeOutcome =
  | 'accepted'
  | 'duplicate'
  | 'ignored'
  | 'malformed'
  | 'unauthorized'
  | 'unsupported_media_type'
  | 'too_large'
  | 'not_found'
  | 'unavailable';

/**
 * The metrics of one cvm process, on its own registry (no global state: tests and several
 * processes in one test run do not collide). Served at `/metrics` on the ops port.
 */
export class Metrics {
  readonly registry = new Registry();

  readonly webhookRequests = new Counter({
    name: 'cvm_webhook_requests_total',
    help: 'Webhook requests by source and outcome.',
    labelNames: ['source', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly webhookDuration = new Histogram({
    name: 'cvm_webhook_request_duration_seconds',
    help: 'Time from request start to answer, by source and outcome.',
    labelNames: ['source', 'outcome'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [this.registry],
  });

  readonly eventsEnqueued = new Counter({
    name: 'cvm_push_events_enqueued_total',
    help: 'PushEvents enqueued on push-events, by source and kind.',
    labelNames: ['source', 'kind'] as const,
    registers: [this.registry],
  });

  readonly duplicatesDropped = new Counter({
    name: 'cvm_push_events_duplicates_total',
    help: 'PushEvents not enqueued because an equal job existed, by source.',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });

  readonly eventsIgnored = new Counter({
    name: 'cvm_push_events_ignored_total',
    help: 'Valid events that are not deployable (delete, pull, blob, untagged, ping), by source.',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });

  readonly sqsMessages = new Counter({
    name: 'cvm_sqs_messages_total',
    help: 'SQS messages by outcome (accepted, duplicate, ignored: deleted; malformed, unavailable: left for redrive).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }
}
