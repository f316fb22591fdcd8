import { randomUUID } from 'node:crypto';
import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from './connections.js';
import { QueueName } from './names.js';
import { producerQueueOptions } from './producer-queue-options.js';

/** What started a rollout job. Identity only: the worker re-reads the CV and the registry. */
export interface RolloutTrigger {
  /** `resume`: a rollout in flight is continued (a watch event, or a rollout found without a job). */
  kind: 'push' | 'scan' | 'poll' | 'drift' | 'sync' | 'resume';
  /** The event source (`ghcr`, `ecr`, …) for push and scan. */
  source?: string;
  digest?: string;
  /** When cvm received the event (RFC 3339); push-to-patch latency is measured from it. */
  receivedAt: string;
}

export interface RolloutJobData {
  namespace: string;
  name: string;
  /** The CV's uid: a CV deleted and re-created under the same name is another CV. */
  uid: string;
  trigger: RolloutTrigger;
}

/** Deduplication id of a CV's rollouts (no `:` allowed in BullMQ ids). */
export const rolloutDeduplicationId = (namespace: string, name: string): string =>
  `rollout__${namespace}__${name}`;

/**
 * Which of two requests for one CV's job runs: the newer (`queued`), since the job re-resolves
 * the tag, except a watch event's `resume` over a request with a reason of its own (a push, a
 * poll): the job continues either way, and keeps the reason, so a rollout that can give way to a
 * newer digest still looks at the tag. A CV deleted and re-created (another uid) takes the newer.
 */
export function takeNewerRollout(current: RolloutJobData, queued: RolloutJobData): RolloutJobData {
  if (queued.uid !== current.uid) return queued;
  if (queued.trigger.kind === 'resume' && current.trigger.kind !== 'resume') return current;
  return queued;
}

/**
 * A rollout job's data once a run ended waiting: its next runs (rechecks, watch events' wakes)
 * are resumes, so they do not take the push, poll or sync that started it for news about the tag
 * again (a registry HEAD and a read of the workloads each). A new request still brings news:
 * it replaces the resume ({@link takeNewerRollout}).
 */
export function rolloutWaiting(data: RolloutJobData): RolloutJobData {
  if (data.trigger.kind === 'resume') return data;
  return { ...data, trigger: { kind: 'resume', receivedAt: data.trigger.receivedAt } };
}

/**
 * BullMQ priority (lower runs first; 0, no priority, before any other) of a CV's rollout job:
 * rollouts in flight and pushes first; syncs, polls and drift checks, which come by the thousand
 * when a leader starts or many CVs are applied at once, after them. A job takes priority 0 once
 * its run ends waiting, so a rollout that has started is never queued behind the syncs of
 * thousands of CVs that have not (with one FIFO, no rollout of 10,000 new CVs finished before
 * every one of them had started).
 */
export const BULK_PRIORITY = 10;
export const rolloutPriority = (trigger: RolloutTrigger): number =>
  trigger.kind === 'sync' || trigger.kind === 'poll' || trigger.kind === 'drift'
    ? BULK_PRIORITY
    : 0;

/** Where route (and later the reconciler) put rollouts. */
export interface RolloutSink {
  enqueue(data: RolloutJobData): Promise<void>;
}

/** What {@link RolloutQueue.wake} found: the CV's job ran now, was busy, was queued, or was missing and added. */
export type WakeResult = 'promoted' | 'active' | 'queued' | 'added';

/** How the watch side continues waiting rollouts. */
export interface RolloutWaker {
  /** The CV's delayed job runs now; a job is added when the CV has none. */
  wake(data: RolloutJobData): Promise<WakeResult>;
  /** A job is added when the CV has none; an existing one keeps its time. */
  ensure(data: RolloutJobData): Promise<WakeResult>;
}

/**
 * The `rollouts` queue seen from producers. One deduplication id per CV with `keepLastIfActive`:
 * while a CV's job runs a step, further requests collapse into one pending job that runs after it
 * (the newest wins, since that job re-resolves the tag); while the job waits (delayed: a rollout
 * waiting for its workloads, or a retry backoff), a request runs it at once with the newest
 * trigger. So at most one step per CV runs at a time across all workers.
 */
export class RolloutQueue implements RolloutSink, RolloutWaker {
  readonly queue: Queue<RolloutJobData>;
  readonly #jobOptions: JobsOptions;

  constructor(options: {
    connection: Redis;
    prefix: string;
    /** Attempts of a step that keeps failing before the job fails (`CVM_ROLLOUT_ATTEMPTS`). Default 10. */
    attempts?: number;
    /** First retry delay, doubling each attempt (`CVM_ROLLOUT_BACKOFF_MS`). Default 2000 ms. */
    backoffMs?: number;
  }) {
    this.#jobOptions = {
      attempts: options.attempts ?? 10,
      backoff: { type: 'exponential', delay: options.backoffMs ?? 2_000, jitter: 0.5 },
      removeOnComplete: { age: 86_400, count: 5_000 },
      removeOnFail: { age: 7 * 86_400 },
    };
    this.queue = new Queue<RolloutJobData>(
      QueueName.Rollouts,
      producerQueueOptions(options.connection, options.prefix),
    );
    this.queue.on('error', () => undefined);
  }

  async enqueue(data: RolloutJobData): Promise<void> {
    const jobId = randomUUID();
    const priority = rolloutPriority(data.trigger);
    const job = await this.queue.add(`${data.namespace}/${data.name}`, data, {
      ...this.#jobOptions,
      ...(priority > 0 ? { priority } : {}),
      jobId,
      deduplication: {
        id: rolloutDeduplicationId(data.namespace, data.name),
        keepLastIfActive: true,
      },
    });
    // Our own id back: a new job, waiting with this data (or, behind the CV's active job, kept to
    // run after it). Nothing more to look at. Another id: deduplicated into that job.
    if (job.id === jobId) return;
    // Deduplicated into a job that waits (a retry backoff, a rollout waiting for its workloads):
    // a new request means the world changed, so that job runs now, with the newer trigger. Into a
    // job that has not started yet: it takes the newer trigger (a push that came after a watch
    // event's resume), so a rollout that can give way to a newer digest looks at the tag.
    // A push into a sync still queued moves it up to the push's priority.
    const state = job.id ? await this.queue.getJobState(job.id) : 'unknown';
    if (!job.id || (state !== 'delayed' && state !== 'waiting' && state !== 'prioritized')) return;
    const existing = await this.queue.getJob(job.id);
    if (!existing) return;
    const taken = takeNewerRollout(existing.data, data);
    if (taken !== existing.data) await existing.updateData(taken).catch(() => undefined);
    if (priority < existing.priority)
      await existing.changePriority({ priority }).catch(() => undefined);
    if (state === 'delayed') await existing.promote().catch(() => undefined);
  }

  wake(data: RolloutJobData): Promise<WakeResult> {
    return this.#touch(data, true);
  }

  ensure(data: RolloutJobData): Promise<WakeResult> {
    return this.#touch(data, false);
  }

  async #touch(data: RolloutJobData, promote: boolean): Promise<WakeResult> {
    const id = await this.queue.getDeduplicationJobId(
      rolloutDeduplicationId(data.namespace, data.name),
    );
    const state = id ? await this.queue.getJobState(id) : 'unknown';
    if (state === 'active') return 'active';
    if (state === 'delayed') {
      if (promote) await (await this.queue.getJob(id ?? ''))?.promote().catch(() => undefined);
      return promote ? 'promoted' : 'queued';
    }
    if (state === 'waiting' || state === 'prioritized' || state === 'waiting-children')
      return 'queued';
    await this.enqueue(data);
    return 'added';
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
