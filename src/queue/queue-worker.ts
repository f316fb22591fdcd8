import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Runnable } from '../lifecycle/runnable.js';
import type { Logger } from '../observability/logger.js';
import { OutageLog } from '../observability/outage-log.js';
import type { Redis } from './connections.js';
import { PermanentJobError, RetryLaterError } from './job-errors.js';
import type { QueueName } from './names.js';

export interface JobContext {
  id: string;
  /** Attempts already made before this one (0 on the first run). */
  attemptsMade: number;
}

export interface QueueWorkerOptions<T> {
  queue: QueueName;
  /** A worker connection (`createWorkerConnection`: `maxRetriesPerRequest: null`). */
  connection: Redis;
  prefix: string;
  /** Jobs processed at once by this process. Default 1. */
  concurrency?: number;
  /** How long a job's lock lasts without renewal; a crashed worker's job is taken over after it. Default 30 000 ms. */
  lockDurationMs?: number;
  /** How often this worker looks for jobs whose lock expired. Default 30 000 ms. */
  stalledIntervalMs?: number;
  /** Time `stop()` waits for running jobs before it abandons them (they are taken over later). Default 20 000 ms. */
  drainTimeoutMs?: number;
  logger: Logger;
  process: (data: T, job: JobContext) => Promise<unknown>;
  /**
   * Called once when a job failed for good after its last attempt with a transient error (not a
   * {@link PermanentJobError}): a dead letter. It stays in the failed set, and the caller makes
   * sure its work is not lost (the leader polls its tag again). Errors it throws are logged.
   */
  onExhausted?: (data: T, error: Error) => Promise<void> | void;
  /**
   * For jobs deduplicated with `keepLastIfActive`: a request that came while a run was active is
   * held by BullMQ until the job finishes for good. When the run instead ends waiting (a retry
   * backoff, a {@link RetryLaterError}), the job takes that request over at once: its data becomes
   * `takeQueued(job data, request data)` and it runs now instead of after its delay. Unset: the
   * request waits for the job to finish.
   */
  takeQueued?: (current: T, queued: T) => T;
  /**
   * What the job's data becomes when a run ends waiting ({@link RetryLaterError}): the run has
   * used what brought it, and the next run (its recheck, or a wake) is not brought by it again.
   * Unset: the data stays as it is.
   */
  onWait?: (data: T) => T;
  /**
   * The BullMQ priority a job takes when a run ends waiting (0: before every prioritized job),
   * so work that has started finishes before queued work starts. Unset: it keeps its own.
   */
  waitingPriority?: number;
}

/** Removes a held request (BullMQ's `dn:` hash) only if it is still the one read. */
const DELETE_IF_UNCHANGED = `if redis.call('HGET', KEYS[1], 'data') == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/** The job failed on its last attempt, not at once for a permanent reason. */
const isExhausted = (job: Job, error: Error): boolean =>
  !(error instanceof UnrecoverableError) &&
  error.name !== 'UnrecoverableError' &&
  job.attemptsMade >= (job.opts.attempts ?? 1);

const hasRetryAfter = (error: unknown): error is Error & { retryAfterMs: number } =>
  error instanceof Error && typeof (error as { retryAfterMs?: unknown }).retryAfterMs === 'number';

/**
 * A BullMQ Worker as a Runnable that maps the processor's errors to what the queue should do:
 * {@link PermanentJobError} fails the job at once, {@link RetryLaterError} (or any error with a
 * `retryAfterMs`, such as a registry's 429) delays it without spending an attempt, anything else is
 * retried with backoff. A job whose worker dies is taken over by another worker once its lock
 * expires (jobs must be idempotent).
 */
export class QueueWorker<T> implements Runnable {
  readonly name: string;
  #worker: Worker<T> | undefined;
  #stopping: Promise<void> | undefined;
  #onReady: (() => void) | undefined;
  #log: Logger | undefined;

  constructor(private readonly options: QueueWorkerOptions<T>) {
    this.name = `worker:${options.queue}`;
  }

  start(): Promise<void> {
    const log = (this.#log = this.options.logger.child({ component: this.name }));
    this.#worker = new Worker<T>(this.options.queue, (job, token) => this.#run(job, token), {
      connection: this.options.connection,
      prefix: this.options.prefix,
      concurrency: this.options.concurrency ?? 1,
      lockDuration: this.options.lockDurationMs ?? 30_000,
      stalledInterval: this.options.stalledIntervalMs ?? 30_000,
      maxStalledCount: 3,
    });
    // BullMQ reports every failed reconnect of its blocking connection: logged once per outage,
    // closed when the shared connection is ready again.
    const errors = new OutageLog(log, {
      failed: 'queue worker error',
      recovered: 'queue worker errors ended',
    });
    this.#worker.on('error', (error) => errors.failed(error));
    this.#onReady = () => errors.recovered();
    this.options.connection.on('ready', this.#onReady);
    this.#worker.on('failed', (job, error) => {
      log.warn(
        { jobId: job?.id, attemptsMade: job?.attemptsMade, err: { message: error.message } },
        'job failed',
      );
      // Retried with backoff: the job is delayed by now, and takes over a request held for it.
      if (job && !isExhausted(job, error) && error.name !== 'UnrecoverableError')
        void this.#takeQueued(job);
      if (job && isExhausted(job, error) && this.options.onExhausted) {
        log.warn({ jobId: job.id, attemptsMade: job.attemptsMade }, 'job out of retries');
        Promise.resolve()
          .then(() => this.options.onExhausted?.(job.data, error))
          .catch((failure: unknown) =>
            log.warn(
              { jobId: job.id, err: { message: (failure as Error).message } },
              'dead letter not recorded',
            ),
          );
      }
    });
    this.#worker.on('stalled', (jobId) => log.warn({ jobId }, 'job stalled; taken over'));
    return Promise.resolve();
  }

  async #run(job: Job<T>, token: string | undefined): Promise<unknown> {
    try {
      return await this.options.process(job.data, {
        id: job.id ?? '',
        attemptsMade: job.attemptsMade,
      });
    } catch (error) {
      if (error instanceof PermanentJobError) throw new UnrecoverableError(error.message);
      if (error instanceof RetryLaterError || hasRetryAfter(error)) {
        // Before the move: a request that comes after it updates the waiting job's data itself.
        const waiting = this.options.onWait?.(job.data);
        if (waiting !== undefined && waiting !== job.data) await job.updateData(waiting);
        const priority = this.options.waitingPriority;
        if (priority !== undefined && job.priority !== priority)
          await job.changePriority({ priority });
        await job.moveToDelayed(Date.now() + error.retryAfterMs, token);
        await this.#takeQueued(job);
        throw new DelayedError();
      }
      throw error;
    }
  }

  /**
   * A job just moved to delayed takes over the request BullMQ held for it while it ran (its
   * deduplication's next job, `dn:<id>`) and runs now. The request's data goes into the job, the
   * job is promoted, and only then is the held copy removed, and only that copy (a newer one stays
   * held): a failure on the way, or a job that someone else promoted first (it may run with its
   * old data), leaves the request held, to run after the job. A request that comes later finds
   * the job delayed and wakes it itself ({@link RolloutQueue.enqueue}), or is held again.
   */
  async #takeQueued(job: Job<T>): Promise<void> {
    const log = this.#log ?? this.options.logger;
    const merge = this.options.takeQueued;
    const id = job.deduplicationId;
    const worker = this.#worker;
    if (!merge || !id || !worker) return;
    try {
      const key = worker.toKey(`dn:${id}`);
      const raw = await this.options.connection.hget(key, 'data');
      if (raw === null) return;
      await job.updateData(merge(job.data, JSON.parse(raw) as T));
      await job.promote();
      await this.options.connection.eval(DELETE_IF_UNCHANGED, 1, key, raw);
      log.debug({ jobId: job.id }, 'request held during the run taken over: runs now');
    } catch (error) {
      // Not delayed any more, or Redis failed: the request stays held for after the job.
      log.debug(
        { jobId: job.id, err: { message: (error as Error).message } },
        'held request left for after the job',
      );
    }
  }

  stop(): Promise<void> {
    this.#stopping ??= this.#close();
    return this.#stopping;
  }

  async #close(): Promise<void> {
    if (this.#onReady) this.options.connection.off('ready', this.#onReady);
    const worker = this.#worker;
    if (!worker) return;
    let timer: NodeJS.Timeout | undefined;
    // BullMQ's close() never resolves while Redis is unreachable (taskforcesh/bullmq#4656).
    const drained = await Promise.race([
      worker.close().then(() => true),
      new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), this.options.drainTimeoutMs ?? 20_000);
      }),
    ]);
    clearTimeout(timer);
    if (!drained) await worker.close(true).catch(() => undefined);
  }
}
