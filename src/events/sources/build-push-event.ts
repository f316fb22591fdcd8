import type { PushEvent, PushSource } from '../push-event.js';
import type { ImageTarget } from './image-target.js';

/** What a normalizer knows about one event; optional facts the source did not give stay `undefined`. */
export interface PushEventFacts {
  source: PushSource;
  target: ImageTarget;
  /** Default `push`. */
  kind?: PushEvent['kind'];
  digest?: string | undefined;
  sourceEventId?: string | undefined;
  occurredAt?: string | undefined;
  receivedAt: Date;
}

/** A {@link PushEvent} without `undefined`-valued keys, so events compare and serialize cleanly. */
export function buildPushEvent(facts: PushEventFacts): PushEvent {
  const event: PushEvent = {
    kind: facts.kind ?? 'push',
    registry: facts.target.registry,
    repository: facts.target.repository,
    tag: facts.target.tag,
    source: facts.source,
    receivedAt: facts.receivedAt.toISOString(),
  };
  if (facts.digest !== undefined) event.digest = facts.digest;
  if (facts.sourceEventId !== undefined) event.sourceEventId = facts.sourceEventId;
  if (facts.occurredAt !== undefined) event.occurredAt = facts.occurredAt;
  return event;
}
