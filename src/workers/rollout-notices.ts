import type { ContainerVersionSpec, RolloutState } from '../api/container-version.js';
import type { Notification, NotifyEvent } from '../notify/notification.js';
import type { Notifier, StoredContainerVersion } from './ports.js';
import { iso } from './rollout-record.js';

const cvOf = (cv: StoredContainerVersion): Notification['containerVersion'] => ({
  namespace: cv.metadata.namespace,
  name: cv.metadata.name,
  uid: cv.metadata.uid,
});

/** What a rollout in flight (or just recorded) tells people. Pure. */
export function rolloutNotification(
  cv: StoredContainerVersion,
  rollout: RolloutState,
  event: NotifyEvent,
  fields: { reason: string; message: string; now: Date; previousImage?: string | undefined },
): Notification {
  return {
    event,
    occurredAt: iso(fields.now),
    containerVersion: cvOf(cv),
    version: rollout.version,
    digest: rollout.digest,
    image: rollout.image,
    ...(fields.previousImage ? { previousImage: fields.previousImage } : {}),
    reason: fields.reason,
    message: fields.message,
    rolloutId: rollout.id,
    strategy: rollout.strategy,
    trigger: rollout.trigger,
  };
}

/** A digest that is not rolled out (an image a check refused, or one that failed before). Pure. */
export function blockedNotification(
  cv: StoredContainerVersion,
  fields: { digest: string; version: string; reason: string; message: string; now: Date },
): Notification {
  return {
    event: 'blocked',
    occurredAt: iso(fields.now),
    containerVersion: cvOf(cv),
    version: fields.version,
    digest: fields.digest,
    reason: fields.reason,
    message: fields.message,
  };
}

/** Hands `notification` to the notifier, if there is one, with the CV's narrowing. */
export async function notify(
  notifier: Notifier | undefined,
  spec: ContainerVersionSpec,
  notification: Notification,
): Promise<void> {
  await notifier?.notify(notification, spec.notify);
}
