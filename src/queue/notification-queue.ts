import { Queue } from 'bullmq';
import type { NotificationJobData } from '../notify/notification.js';
import type { NotificationJob, NotificationJobSink } from '../notify/queue-notifier.js';
import type { Redis } from './connections.js';
import { QueueName } from './names.js';
import { producerQueueOptions } from './producer-queue-options.js';

/**
 * The `notifications` queue seen from producers: one job per delivery to one sink, with the
 * caller's deterministic id, so a rollout step that runs twice queues one delivery. Done jobs are
 * kept a week (that is how long a repeated id stays a no-op); failed ones too, for the queue
 * board. Retries: `attempts` with exponential backoff from `backoffMs` (15 attempts from 2 s
 * reach about 18 h), so a sink that is down for hours loses nothing.
 */
export class NotificationQueue implements NotificationJobSink {
  readonly queue: Queue<NotificationJobData>;

  constructor(
    private readonly options: {
      connection: Redis;
      prefix: string;
      /** Attempts of a delivery (`CVM_NOTIFY_ATTEMPTS`). Default 15. */
      attempts?: number;
      /** First retry delay, doubling each attempt (`CVM_NOTIFY_BACKOFF_MS`). Default 2000 ms. */
      backoffMs?: number;
    },
  ) {
    this.queue = new Queue<NotificationJobData>(
      QueueName.Notifications,
      producerQueueOptions(options.connection, options.prefix),
    );
    this.queue.on('error', () => undefined);
  }

  async add(jobs: readonly NotificationJob[]): Promise<void> {
    if (jobs.length === 0) return;
    await this.queue.addBulk(
      jobs.map((job) => ({
        name: `${job.data.notification.event}/${job.data.sink}`,
        data: job.data,
        opts: {
          jobId: job.id,
          attempts: this.options.attempts ?? 15,
          backoff: { type: 'exponential', delay: this.options.backoffMs ?? 2_000, jitter: 0.2 },
          removeOnComplete: { age: 7 * 86_400, count: 50_000 },
          removeOnFail: { age: 14 * 86_400 },
        },
      })),
    );
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
