import { createHash, randomUUID } from 'node:crypto';
import { Job, Queue, type JobJson, type JobsOptions } from 'bullmq';
import { targetKey } from '../reconciler/poll-decision.js';
import type { PushEvent } from '../events/push-event.js';
import type { Redis } from './connections.js';
import { QueueName } from './names.js';
import type { RedisPollState } from './poll-state.js';
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
   * Enqueues all events of one delivery, and records them for the poller. Resolves only when every
   * one of them was written; rejects when Redis cannot take them (the caller answers 503 or leaves
   * the SQS message for later). Not all or none: some may have been written, and a retry adds
   * nothing twice (ADR 0007).
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
  /**
   * Where the poller learns that a `repo:tag` heard from its registry (DESIGN §5): each event's
   * target is recorded in the same round trip as its job. Best effort: a failed write costs at
   * most one poll, and never fails the enqueue.
   */
  pollState?: Pick<RedisPollState, 'recordEventIn'>;
  /**
   * Most events one Redis round trip carries (the enqueues of concurrent deliveries are sent
   * together, see {@link PushEventQueue}). Default 1000.
   */
  maxBatchEvents?: number;
}

/**
 * The outcome of one event from the replies of its round trip. BullMQ's add returns the existing
 * job's id for a deduplicated add (another id than ours: a duplicate), and our own id both when it
 * created the job and when the id was already there; `EXISTS` before the add tells those apart.
 */
function outcomeOf(placed: Placed, results: [Error | null, unknown][]): EnqueueOutcome {
  const [addError, id] = results[placed.added] ?? [new Error('no reply to the add'), null];
  if (addError) throw addError;
  const [existsError, existed] = results[placed.existed] ?? [null, 0];
  if (existsError) throw existsError;
  const jobId = typeof id === 'string' || typeof id === 'number' ? String(id) : placed.jobId;
  if (jobId !== placed.jobId) return { event: placed.event, jobId, duplicate: true };
  return { event: placed.event, jobId, duplicate: existed === 1 };
}

/** One delivery waiting for the next round trip. */
interface PendingEnqueue {
  events: readonly PushEvent[];
  resolve: (outcomes: EnqueueOutcome[]) => void;
  reject: (error: unknown) => void;
}

/** Where one event's replies are in the round trip's results. */
interface Placed {
  event: PushEvent;
  jobId: string;
  existed: number;
  added: number;
}

/**
 * The `push-events` queue, seen from producers.
 *
 * Deliveries that arrive together share one Redis round trip: an enqueue joins a batch that is
 * sent once the current turn of the event loop is over (`setImmediate`), or at once when it holds
 * {@link PushEventQueueOptions.maxBatchEvents} events. The batch is one pipeline (built once per
 * batch, not per delivery: ioredis copies every BullMQ script onto each new pipeline) holding, for
 * each event, `EXISTS` of its job id, BullMQ's own add script, and the poll-state write. Each
 * delivery still gets its own outcome: it resolves or rejects on its own replies only, and the
 * write stays what ADR 0007 says (idempotent, not all or none: a pipeline, as `addBulk` was).
 */
export class PushEventQueue implements PushEventSink {
  readonly queue: Queue<PushEvent>;
  readonly #jobOptions: JobsOptions;
  readonly #connection: Redis;
  readonly #enqueueTimeoutMs: number;
  readonly #replicasToAck: number;
  readonly #pollState: Pick<RedisPollState, 'recordEventIn'> | undefined;
  readonly #maxBatchEvents: number;
  #pending: PendingEnqueue[] = [];
  #pendingEvents = 0;
  #scheduled = false;

  constructor(options: PushEventQueueOptions) {
    this.#connection = options.connection;
    this.#replicasToAck = options.replicasToAck ?? 0;
    this.#enqueueTimeoutMs = options.enqueueTimeoutMs ?? 2_000;
    this.#pollState = options.pollState;
    this.#maxBatchEvents = options.maxBatchEvents ?? 1_000;
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
      return await Promise.race([this.#join(events), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Adds a delivery to the next batch; resolves with its own outcomes once the batch is sent. */
  #join(events: readonly PushEvent[]): Promise<EnqueueOutcome[]> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ events, resolve, reject });
      this.#pendingEvents += events.length;
      if (this.#pendingEvents >= this.#maxBatchEvents) this.#flush();
      else if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => {
          this.#scheduled = false;
          this.#flush();
        });
      }
    });
  }

  #flush(): void {
    const batch = this.#pending;
    if (batch.length === 0) return;
    this.#pending = [];
    this.#pendingEvents = 0;
    this.#send(batch).catch((error: unknown) => {
      for (const delivery of batch) delivery.reject(error);
    });
  }

  async #send(batch: readonly PendingEnqueue[]): Promise<void> {
    if (this.#connection.status !== 'ready')
      throw new QueueUnavailableError(`redis is ${this.#connection.status}`, false);
    // Resolves at once after the first time: the queue's scripts are loaded on the connection.
    await this.queue.waitUntilReady();
    const pipeline = this.#connection.pipeline();
    // BullMQ's add goes through `runCommand` of its transaction wrapper (`augmentTransaction`),
    // the only method of it that the add uses; the wrapper's structured `hset` would not suit
    // the poll-state write, so the raw pipeline is given just that.
    const commands = pipeline as unknown as Record<string, (args: unknown[]) => unknown>;
    const transaction = Object.assign(pipeline, {
      runCommand(name: string, args: unknown[]) {
        commands[name]!(args);
        return transaction;
      },
    }) as unknown as Parameters<Queue['backend']['addJobToTransaction']>[0];
    const placed = batch.map((delivery) =>
      delivery.events.map((event): Placed => {
        const jobId = pushEventJobId(event);
        const job = new Job<PushEvent>(this.queue, event.kind, event, {
          ...this.#jobOptions,
          jobId,
          deduplication: pushEventDeduplication(event),
        });
        const json = job.asJSON();
        (job as unknown as { validateOptions(json: JobJson): void }).validateOptions(json);
        // Whether the id was there before this add: Redis runs one connection's commands in order,
        // so this also sees an equal event earlier in the same batch.
        const existed = pipeline.length;
        pipeline.exists(this.queue.toKey(jobId));
        const added = pipeline.length;
        // Its reply is read from the pipeline's results, like every other command here.
        this.queue.backend.addJobToTransaction(transaction, json, jobId).catch(() => undefined);
        return { event, jobId, existed, added };
      }),
    );
    if (this.#pollState) {
      for (const { events } of batch)
        for (const e of events)
          this.#pollState.recordEventIn(
            pipeline,
            targetKey(e.registry, e.repository, e.tag),
            Date.parse(e.receivedAt),
          );
    }
    const results = (await pipeline.exec()) ?? [];
    if (this.#replicasToAck > 0) await this.#awaitReplicas();
    batch.forEach((delivery, index) => {
      try {
        delivery.resolve(placed[index]!.map((p) => outcomeOf(p, results)));
      } catch (error) {
        delivery.reject(error);
      }
    });
  }

  /**
   * WAIT counts the replicas that acknowledged every write of this connection so far; it blocks
   * the connection, so it is bounded well inside the enqueue timeout. One for a whole batch.
   */
  async #awaitReplicas(): Promise<void> {
    const acked = await this.#connection.wait(
      this.#replicasToAck,
      Math.max(1, Math.floor(this.#enqueueTimeoutMs / 2)),
    );
    if (acked < this.#replicasToAck)
      throw new QueueUnavailableError(
        `${acked} of ${this.#replicasToAck} redis replicas confirmed the write`,
        true,
      );
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
