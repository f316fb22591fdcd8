import { createHash } from 'node:crypto';
import type { NotifySpec } from '../api/container-version.js';
import type { Logger } from '../observability/logger.js';
import type { Notifier } from '../workers/ports.js';
import type { Notification, NotificationJobData, NotifySink } from './notification.js';
import { sinksFor, type NotifyRouting } from './notify-filter.js';

/** One queued delivery: a deterministic id and what to deliver. */
export interface NotificationJob {
  id: string;
  data: NotificationJobData;
}

/** Where deliveries are queued (`NotificationQueue` in src/queue). */
export interface NotificationJobSink {
  /** Adds the jobs; a job whose id is already in the queue (or kept there as done) is not added again. */
  add(jobs: readonly NotificationJob[]): Promise<void>;
}

/**
 * The id of one notification's delivery to one sink, the same however often a rollout step runs:
 * event, CV and a hash of the CV's uid with the rollout's id (or, for a blocked digest that never
 * started a rollout, the digest). No `:` (BullMQ forbids it in custom ids).
 */
export function notificationJobId(n: Notification, sink: NotifySink): string {
  const hash = createHash('sha256')
    .update(`${n.containerVersion.uid}\n${n.rolloutId ?? n.digest}`)
    .digest('hex')
    .slice(0, 20);
  const { namespace, name } = n.containerVersion;
  return `${n.event}__${namespace}__${name}__${hash}__${sink}`;
}

/**
 * The workers' {@link Notifier}: one job per sink that wants the notification (the cluster's
 * routing narrowed by the CV's `spec.notify`), queued with a deterministic id. It only enqueues:
 * a slow or failing sink is the notifications worker's business, never the rollout's.
 */
export class QueueNotifier implements Notifier {
  constructor(
    private readonly deps: { queue: NotificationJobSink; routing: NotifyRouting; logger: Logger },
  ) {}

  async notify(notification: Notification, narrowing?: NotifySpec): Promise<void> {
    const sinks = sinksFor(notification.event, this.deps.routing, narrowing);
    if (sinks.length === 0) return;
    await this.deps.queue.add(
      sinks.map((sink) => ({
        id: notificationJobId(notification, sink),
        data: { sink, notification },
      })),
    );
    this.deps.logger.debug({ event: notification.event, sinks }, 'notification queued');
  }
}
