import type { PushSource, RawDelivery, Normalizer } from '../events/push-event.js';
import { MalformedEventError } from '../events/push-event.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { OutageLog } from '../observability/outage-log.js';
import {
  QueueUnavailableError,
  type EnqueueOutcome,
  type PushEventSink,
} from '../queue/push-event-queue.js';

export const DEFAULT_MAX_EVENTS_PER_DELIVERY = 1_000;

export type IngestResult =
  /** At least one deployable event; each enqueued or found to be a duplicate. */
  | { status: 'accepted'; outcomes: EnqueueOutcome[]; ignored: string[]; invalid: string[] }
  /** Valid, but nothing deployable in it (delete, pull, untagged, ping…). */
  | { status: 'ignored'; ignored: string[]; invalid: string[] }
  /**
   * Nothing in it is valid: not the documented shape, or every event of it malformed. The message
   * names the field; `invalid` lists each event's reason. Nothing was enqueued.
   */
  | { status: 'malformed'; message: string; invalid: string[] }
  /** More deployable events than one delivery may hold; nothing was enqueued. */
  | { status: 'too_many'; message: string }
  /**
   * The queue did not confirm the write. Some events may have been written; every write is
   * idempotent (ADR 0007), so the sender's retry adds nothing twice.
   */
  | { status: 'unavailable'; message: string };

export interface IngestDeps {
  sink: PushEventSink;
  metrics: Metrics;
  logger: Logger;
  /**
   * Most deployable events one delivery may hold (`CVM_MAX_EVENTS_PER_DELIVERY`); a delivery with
   * more is refused whole, so one request never holds Redis for long. Default 1000.
   */
  maxEventsPerDelivery?: number;
}

/**
 * Normalize, then enqueue: the part of intake that HTTP webhooks and the SQS consumer share. It
 * never throws: every outcome is a result the caller maps to an answer.
 */
export class Ingest {
  /** Every delivery fails while Redis is down: one line when that starts, one when it ends. */
  readonly #enqueueFailures: OutageLog;

  constructor(private readonly deps: IngestDeps) {
    this.#enqueueFailures = new OutageLog(deps.logger, {
      failed: 'enqueue failed',
      recovered: 'enqueue works again',
    });
  }

  async ingest(
    source: PushSource,
    normalize: Normalizer,
    delivery: RawDelivery,
  ): Promise<IngestResult> {
    let normalized;
    try {
      normalized = normalize(delivery);
    } catch (error) {
      if (error instanceof MalformedEventError)
        return { status: 'malformed', message: error.message, invalid: [] };
      // A normalizer must only throw MalformedEventError; anything else is our bug, reported as such.
      this.deps.logger.error({ source, err: error }, 'normalizer failed');
      return { status: 'malformed', message: 'body: could not be read', invalid: [] };
    }
    const invalid = normalized.invalid ?? [];
    if (invalid.length > 0) this.deps.metrics.eventsInvalid.inc({ source }, invalid.length);
    if (normalized.ignored.length > 0)
      this.deps.metrics.eventsIgnored.inc({ source }, normalized.ignored.length);
    if (normalized.events.length === 0 && normalized.ignored.length === 0 && invalid.length > 0)
      return { status: 'malformed', message: nothingValid(invalid), invalid };
    if (normalized.events.length === 0)
      return { status: 'ignored', ignored: normalized.ignored, invalid };
    const cap = this.deps.maxEventsPerDelivery ?? DEFAULT_MAX_EVENTS_PER_DELIVERY;
    if (normalized.events.length > cap) {
      return {
        status: 'too_many',
        message: `the delivery holds ${normalized.events.length} events; at most ${cap} are taken per delivery (CVM_MAX_EVENTS_PER_DELIVERY)`,
      };
    }

    let outcomes: EnqueueOutcome[];
    try {
      outcomes = await this.deps.sink.enqueue(normalized.events);
    } catch (error) {
      this.#enqueueFailures.failed(error, { source });
      const unconfirmed = !(error instanceof QueueUnavailableError) || error.mayHaveWritten;
      return {
        status: 'unavailable',
        message: unconfirmed
          ? 'the event queue did not confirm the write; retry later (a retry adds no event twice)'
          : 'the event queue is unavailable; nothing was written; retry later',
      };
    }
    this.#enqueueFailures.recovered();
    for (const outcome of outcomes) {
      if (outcome.duplicate) this.deps.metrics.duplicatesDropped.inc({ source });
      else this.deps.metrics.eventsEnqueued.inc({ source, kind: outcome.event.kind });
    }
    this.deps.logger.debug(
      { source, jobs: outcomes.map((o) => ({ jobId: o.jobId, duplicate: o.duplicate })) },
      'push events enqueued',
    );
    return { status: 'accepted', outcomes, ignored: normalized.ignored, invalid };
  }
}

/** The 400 message of a delivery whose every event is invalid: the first reason, and how many more. */
function nothingValid(invalid: readonly string[]): string {
  const more = invalid.length - 1;
  return more > 0 ? `${invalid[0]} (and ${more} more invalid events)` : (invalid[0] ?? '');
}
