import type { Job, Queue } from 'bullmq';
import { QueueName } from './names.js';
import type { NotificationQueue } from './notification-queue.js';
import type { PushEventQueue } from './push-event-queue.js';
import type { RolloutJobData, RolloutQueue } from './rollout-queue.js';

/** Job counts of one queue. */
export interface QueueStats {
  queue: QueueName;
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
  completed: number;
}

/** A dead letter: a job in a queue's failed set. */
export interface FailedJob {
  queue: QueueName;
  id: string;
  name: string;
  failedReason: string;
  /** Attempts made before it failed for good. */
  attempts: number;
  /** When it failed (RFC 3339), if BullMQ recorded it. */
  failedAt: string | undefined;
}

/** What happened to each id of a retry or drop. */
export interface JobActionResult {
  /** The jobs acted on. A retried rollout gets a new id: `id` is the failed job's. */
  done: { queue: QueueName; id: string }[];
  /** Ids that are no failed job in the queues looked at. */
  notFound: string[];
  /** Ids of a failed job in more than one queue: the caller must name the queue. */
  ambiguous: string[];
}

export const QUEUE_NAMES: readonly QueueName[] = [
  QueueName.PushEvents,
  QueueName.Rollouts,
  QueueName.Notifications,
];

export const isQueueName = (name: string): name is QueueName =>
  (QUEUE_NAMES as readonly string[]).includes(name);

/** Jobs fetched per page when every failed job is retried or dropped. */
const PAGE = 100;

/**
 * Dead letters for operators (`cvm queue …` and the queue board's admin actions): counts, the
 * failed jobs, retry and drop.
 *
 * Retrying a rollout never uses BullMQ's `job.retry()`: a retried job goes back to waiting
 * without its deduplication id (BullMQ drops it when the job fails), so it could run beside a newer
 * job of the same CV. Instead the CV's rollout is requested again through
 * {@link RolloutQueue.enqueue} (one job per CV; it collapses into a job the CV already has) and the
 * dead letter is removed. A push event is retried in place (`job.retry()`, attempts reset): it
 * keeps its id, so a redelivery of the same webhook still collapses into it, and routing it twice
 * is harmless (route enqueues per-CV rollouts).
 */
export class QueueAdmin {
  readonly #queues: ReadonlyMap<QueueName, Queue>;

  constructor(
    private readonly deps: {
      pushEvents: Pick<PushEventQueue, 'queue'>;
      rollouts: Pick<RolloutQueue, 'queue' | 'enqueue'>;
      /** Retried in place, like a push event (a delivery keeps its id, so receivers dedupe it). */
      notifications?: Pick<NotificationQueue, 'queue'>;
      now?: () => Date;
    },
  ) {
    this.#queues = new Map<QueueName, Queue>([
      [QueueName.PushEvents, deps.pushEvents.queue as Queue],
      [QueueName.Rollouts, deps.rollouts.queue as Queue],
      ...(deps.notifications
        ? [[QueueName.Notifications, deps.notifications.queue as Queue] as const]
        : []),
    ]);
  }

  #pick(queue: QueueName | undefined): [QueueName, Queue][] {
    return [...this.#queues].filter(([name]) => queue === undefined || name === queue);
  }

  async stats(): Promise<QueueStats[]> {
    return Promise.all(
      this.#pick(undefined).map(async ([name, queue]) => {
        const c = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed');
        return {
          queue: name,
          waiting: c.waiting ?? 0,
          active: c.active ?? 0,
          delayed: c.delayed ?? 0,
          failed: c.failed ?? 0,
          completed: c.completed ?? 0,
        };
      }),
    );
  }

  /** The newest `limit` failed jobs of each queue looked at, newest first. */
  async failed(options: { queue?: QueueName; limit: number }): Promise<FailedJob[]> {
    const lists = await Promise.all(
      this.#pick(options.queue).map(async ([name, queue]) =>
        (await queue.getFailed(0, options.limit - 1)).map((job) => describe(name, job)),
      ),
    );
    return lists
      .flat()
      .sort((a, b) => (b.failedAt ?? '').localeCompare(a.failedAt ?? ''))
      .slice(0, options.limit);
  }

  /** Retries the failed jobs `ids` (see the class comment for how a rollout is retried). */
  retry(ids: readonly string[], queue?: QueueName): Promise<JobActionResult> {
    return this.#each(ids, queue, (name, job) => this.#retry(name, job));
  }

  /** Removes the failed jobs `ids` for good. */
  drop(ids: readonly string[], queue?: QueueName): Promise<JobActionResult> {
    return this.#each(ids, queue, async (_name, job) => {
      await job.remove();
    });
  }

  /** Retries every failed job (of `queue`, or of every queue); the number retried per queue. */
  retryAll(queue?: QueueName): Promise<Partial<Record<QueueName, number>>> {
    return this.#all(queue, (name, job) => this.#retry(name, job));
  }

  /** Removes every failed job (of `queue`, or of every queue); the number removed per queue. */
  dropAll(queue?: QueueName): Promise<Partial<Record<QueueName, number>>> {
    return this.#all(queue, async (_name, job) => {
      await job.remove();
    });
  }

  async #retry(name: QueueName, job: Job): Promise<void> {
    if (name !== QueueName.Rollouts) {
      await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
      return;
    }
    const data = job.data as RolloutJobData;
    // The latency from a push to its patch is measured from `receivedAt`: a replay starts now.
    const receivedAt = (this.deps.now?.() ?? new Date()).toISOString();
    await this.deps.rollouts.enqueue({ ...data, trigger: { ...data.trigger, receivedAt } });
    // Removed only once the new request is in: a failure in between leaves the dead letter, and
    // retrying it again collapses into the job just added.
    await job.remove();
  }

  async #each(
    ids: readonly string[],
    queue: QueueName | undefined,
    act: (name: QueueName, job: Job) => Promise<void>,
  ): Promise<JobActionResult> {
    const result: JobActionResult = { done: [], notFound: [], ambiguous: [] };
    for (const id of ids) {
      const found: [QueueName, Job][] = [];
      for (const [name, q] of this.#pick(queue)) {
        const job = (await q.getJob(id)) as Job | undefined;
        if (job && (await job.getState()) === 'failed') found.push([name, job]);
      }
      const [first] = found;
      if (!first) result.notFound.push(id);
      else if (found.length > 1) result.ambiguous.push(id);
      else {
        await act(first[0], first[1]);
        result.done.push({ queue: first[0], id });
      }
    }
    return result;
  }

  async #all(
    queue: QueueName | undefined,
    act: (name: QueueName, job: Job) => Promise<void>,
  ): Promise<Partial<Record<QueueName, number>>> {
    const counts: Partial<Record<QueueName, number>> = {};
    for (const [name, q] of this.#pick(queue)) {
      // Bounded by the count at the start: a job that fails again meanwhile is not taken twice.
      const total = await q.getFailedCount();
      const seen = new Set<string>();
      while (seen.size < total) {
        const page = (await q.getFailed(0, PAGE - 1)).filter((j) => !seen.has(j.id ?? ''));
        if (page.length === 0) break;
        for (const job of page) {
          seen.add(job.id ?? '');
          await act(name, job);
          if (seen.size >= total) break;
        }
      }
      counts[name] = seen.size;
    }
    return counts;
  }
}

function describe(queue: QueueName, job: Job): FailedJob {
  return {
    queue,
    id: job.id ?? '',
    name: job.name,
    failedReason: job.failedReason ?? '',
    attempts: job.attemptsMade,
    failedAt: job.finishedOn === undefined ? undefined : new Date(job.finishedOn).toISOString(),
  };
}
