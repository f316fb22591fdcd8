import { createHash } from 'node:crypto';

/**
 * A stable event id for sources whose payloads carry none (Docker Hub, Quay, Harbor's default
 * format, generic calls without `id`): 32 hex characters of SHA-256 over the parts, so the same
 * payload delivered twice gets the same id, and the id holds no `:` (BullMQ job ids cannot).
 * Parts are length-delimited by JSON encoding, so `['a:b', 'c']` and `['a', 'b:c']` differ.
 */
export function derivedEventId(parts: readonly string[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 32);
}

/**
 * The id of the event for one `tag` of a delivery that can name several tags under one id (an ECR
 * scan's `image-tags`, a Harbor CloudEvent's `resources`): `<deliveryId>/<tag>`. Each PushEvent
 * must have its own id, or deduplication by id would drop every tag but the first. Tags cannot
 * contain `/`, so the split is unambiguous.
 */
export function perTagEventId(deliveryId: string, tag: string): string {
  return `${deliveryId}/${tag}`;
}
