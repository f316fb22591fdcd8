import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from './connections.js';
import { QueueName } from './names.js';

/** What started a rollout job. Identity only: the worker re-reads the CV and the registry. */
export interface RolloutTrigger {
  kind: 'push' | 'scan' | 'poll' | 'drift' | 'sync';
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

/** Where route (and later the reconciler) put rollouts. */
export interface RolloutSink {
  enqueue(data: RolloutJobData): Promise<void>;
}

/**
 * The `rollouts` queue seen from producers. One deduplication id per CV with `keepLastIfActive`:
 * while a CV's rollout runs, further requests collapse into one pending job that runs after it
 * (the newest wins, since that job re-resolves the tag); while one waits, more are dropped. So at
 * most one rollout per CV runs at a time across all workers.
 */
export class RolloutQueue implements RolloutSink {
  readonly queue: Queue<RolloutJobData>;
  readonly #jobOptions: JobsOptions = {
    attempts: 10,
    backoff: { type: 'exponential', delay: 2_000, jitter: 0.5 },
    removeOnComplete: { age: 86_400, count: 5_000 },
    removeOnFail: { age: 7 * 86_400 },
  };

  constructor(options: { connection: Redis; prefix: string }) {
    this.queue = new Queue<RolloutJobData>(QueueName.Rollouts, {
      connection: options.connection,
      prefix: options.prefix,
    });
    this.queue.on('error', () => undefined);
  }

  async enqueue(data: RolloutJobData): Promise<void> {
    const job = await this.queue.add(`${data.namespace}/${data.name}`, data, {
      ...this.#jobOptions,
      deduplication: {
        id: rolloutDeduplicationId(data.namespace, data.name),
        keepLastIfActive: true,
      },
    });
    // Deduplicated into a job that waits out a retry backoff (say, a sync that found no tag yet):
    // a new request means the world changed, so that job runs now instead of after its backoff.
    if (job.id && (await this.queue.getJobState(job.id)) === 'delayed') {
      const existing = await this.queue.getJob(job.id);
      await existing?.promote().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
