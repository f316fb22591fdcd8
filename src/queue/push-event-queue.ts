import { createHash, randomUUID } from 'node:crypto';
import { Queue, type JobsOptions } from 'bullmq';
import type { PushEvent } from '../events/push-event.js';
import type { Redis } from './connections.js';
import { QueueName } from './names.js';
import { producerQueueOptions } from './producer-queue-options.js';

export interface EnqueueOutcome {
  event: PushEvent;
  jobId: string;
  /** True when an equal job already existed: the same delivery, or the same image still waiting. */
  duplicate: boolean;
}

/** Where the receiver puts events; the narrow interface its handlers depend on. */
export interface PushEventSink {
  /**
   * Enqueues all events of one delivery in one Redis transaction: all or none. Rejects when Redis
   * cannot take them (the caller answers 503 or leaves the SQS message for later).
   */
  enqueue(events: readonly PushEvent[]): Promise<EnqueueOutcome[]>;
  /** Whether an enqueue could succeed now (Redis connected). */
  isReady(): boolean;
}

const hash = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 32);

/**
 * The identity of an event: everything that makes two events different (source, kind, registry,
 * repository, tag, digest and the source's event id). A source's id alone is not enough: CI
 * pipelines reuse one id for every image they push, and a Distribution envelope may repeat one.
 */
export function pushEventIdentity(event: PushEvent): string {
  return JSON.stringify([
    event.source,
    event.kind,
    event.registry,
    event.repository,
    event.tag,
    event.digest ?? '',
    event.sourceEventId ?? '',
  ]);
}

/**
 * The job id of an event: a hash of its {@link pushEventIdentity}, so a redelivered webhook or SQS
 * message maps to the same job (BullMQ ids may not contain `:`). Events without a delivery id get a
 * unique id: without one, "the same delivery" cannot be told from "the same tag pushed again"
 * (their redeliveries collapse through {@link pushEventDeduplicationId} instead).
 */
export function pushEventJobId(event: PushEvent): string {
  if (event.sourceEventId === undefined) return `${event.source}-${randomUUID()}`;
  return `${event.source}-${hash(pushEventIdentity(event))}`;
}

/**
 * How an event collapses with equal ones that have not run yet (BullMQ deduplication; the job id
 * catches redeliveries of events with ids):
 *
 * - With a digest: two sources reporting the same image (registry, repository, tag, digest) while
 *   the first job still waits or runs make one job. Once that job ran, the same image may be
 *   enqueued again; that is safe because workers re-resolve the tag, and it keeps a tag moved
 *   A → B → A within a window from losing its last move.
 * - Without a digest (Quay, Docker Hub, generic calls without one): the event says only "this tag
 *   moved", and a job that has not run yet will resolve the tag when it runs, so further reports
 *   of the tag add nothing while it waits; while it runs, one more is kept to run after it
 *   (`keepLastIfActive`), so a push during the run is not lost. A Quay redelivery (no id, no
 *   digest) so adds no job while the first one is pending.
 */
export function pushEventDeduplication(event: PushEvent): { id: string; keepLastIfActive?: true } {
  const image = `${event.registry}/${event.repository}:${event.tag}`;
  if (event.digest !== undefined)
    return { id: `${event.kind}-${hash(`${image}@${event.digest}`)}` };
  return { id: `${event.kind}-tag-${hash(image)}`, keepLastIfActive: true };
}

/** Redis cannot take events now; the caller answers 503 or leaves the message for later. */
export class QueueUnavailableError extends Error {
  constructor(
    message: string,
    /**
     * False when nothing was sent to Redis (it was down); true when the write was sent but not
     * confirmed in time, so some or all of it may land. Either way a retry adds no event twice.
     */
    readonly mayHaveWritten: boolean,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'QueueUnavailableError';
  }
}

export interface PushEventQueueOptions {
  /** A producer connection (`createProducerConnection`): it refuses commands while Redis is down. */
  connection: Redis;
  prefix: string;
  /** Longest time one enqueue may take before it counts as failed. Default 2000 ms. */
  enqueueTimeoutMs?: number;
  /** How long processed jobs (and so their delivery ids) are remembered. Default 24 h. */
  retainCompletedSeconds?: number;
  /**
   * Replicas that must confirm a write (Redis `WAIT`) before an enqueue resolves; fewer within the
   * enqueue timeout reject it with {@link QueueUnavailableError} (`mayHaveWritten`). Default 0:
   * the primary alone. Replication is asynchronous, so without it a failover can lose events the
   * receiver already acknowledged.
   */
  replicasToAck?: number;
}

/** The `push-events` queue, seen from producers. */
export class PushEventQueue implements PushEventSink {
  readonly queue: Queue<PushEvent>;
  readonly #jobOptions: JobsOptions;
  readonly #connection: Redis;
  readonly #enqueueTimeoutMs: number;
  readonly #replicasToAck: number;

  constructor(options: PushEventQueueOptions) {
    this.#connection = options.connection;
    this.#replicasToAck = options.replicasToAck ?? 0;
    this.#enqueueTimeoutMs = options.enqueueTimeoutMs ?? 2_000;
    this.queue = new Queue<PushEvent>(
      QueueName.PushEvents,
      producerQueueOptions(options.connection, options.prefix),
    );
    // Connection errors are logged once per outage by the connection itself; enqueue() rejects.
    this.queue.on('error', () => undefined);
    this.#jobOptions = {
      attempts: 8,
      backoff: { type: 'exponential', delay: 1_000, jitter: 0.5 },
      removeOnComplete: { age: options.retainCompletedSeconds ?? 86_400, count: 50_000 },
      removeOnFail: { age: 7 * 86_400 },
    };
  }

  isReady(): boolean {
    return this.#connection.status === 'ready';
  }

  async enqueue(events: readonly PushEvent[]): Promise<EnqueueOutcome[]> {
    if (events.length === 0) return [];
    // BullMQ waits for a connection that is not ready; a webhook must not.
    if (this.#connection.status !== 'ready')
      throw new QueueUnavailableError(`redis is ${this.#connection.status}`, false);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(
        () =>
          reject(new QueueUnavailableError(`enqueue took over ${this.#enqueueTimeoutMs} ms`, true)),
        this.#enqueueTimeoutMs,
      );
    });
    try {
      return await Promise.race([this.#addReplicated(events), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async #addReplicated(events: readonly PushEvent[]): Promise<EnqueueOutcome[]> {
    const outcomes = await this.#add(events);
    if (this.#replicasToAck === 0) return outcomes;
    // WAIT counts the replicas that acknowledged every write of this connection so far; it blocks
    // the connection, so it is bounded well inside the enqueue timeout.
    const acked = await this.#connection.wait(
      this.#replicasToAck,
      Math.max(1, Math.floor(this.#enqueueTimeoutMs / 2)),
    );
    if (acked < this.#replicasToAck)
      throw new QueueUnavailableError(
        `${acked} of ${this.#replicasToAck} redis replicas confirmed the write`,
        true,
      );
    return outcomes;
  }

  async #add(events: readonly PushEvent[]): Promise<EnqueueOutcome[]> {
    const requests = events.map((event) => ({
      name: event.kind,
      data: event,
      opts: {
        ...this.#jobOptions,
        jobId: pushEventJobId(event),
        deduplication: pushEventDeduplication(event),
      },
    }));
    const jobs = await this.queue.addBulk(requests);
    // BullMQ returns the existing job's id for a deduplicated add, and our own id (with our data)
    // when the id already existed; the stored timestamp tells the second case apart. One round
    // trip for all of them, however many events the delivery holds.
    const timestamps = this.#connection.pipeline();
    for (const job of jobs) timestamps.hget(this.queue.toKey(job.id ?? ''), 'timestamp');
    const stored = (await timestamps.exec()) ?? [];
    return jobs.map((job, index) => {
      const request = requests[index]!;
      const jobId = job.id ?? request.opts.jobId;
      if (jobId !== request.opts.jobId) return { event: request.data, jobId, duplicate: true };
      const [error, timestamp] = stored[index] ?? [null, null];
      if (error) throw error;
      return {
        event: request.data,
        jobId,
        duplicate: timestamp !== null && Number(timestamp) !== job.timestamp,
      };
    });
  }

  /**
   * Closes the queue. BullMQ's close waits for a connection that never became ready (while Redis is
   * down), so it is bounded; the connection itself is closed by its owner.
   */
  async close(timeoutMs = 2_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.queue.close(),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
  }
}
