import type { Normalizer } from '../push-event.js';
import { buildPushEvent } from './build-push-event.js';
import { ignore } from './ignore.js';
import { imageRefIn, imageTarget } from './image-target.js';
import { JsonField } from './json-field.js';
import { judgeEach, withInvalid } from './judge-each.js';

/**
 * Quay "Repository Push" notifications, method "Webhook POST" (registry-events.md §3.2): one
 * `push` event per tag in `updated_tags`, an array of tags or, in the legacy form, an object whose
 * keys are the tags. Registry and repository come from `docker_url` (`quay.io/acme/api`, or a
 * self-hosted Quay's host). No digest: Quay does not send one.
 *
 * Quay sends no event id, no time and no digest, so a redelivery cannot be told from a later push
 * of the same tags: the events carry no `sourceEventId` (an id derived from the tags would drop a
 * later push of the same tags, A → B → A). The queue collapses a tag's reports while its first
 * job has not run (`pushEventDeduplication`), so redeliveries add no jobs; a report after that
 * job ran is enqueued again, which is safe: workers re-resolve the tag and a rollout to the
 * running digest is a no-op.
 *
 * Ignored: notifications without `updated_tags` (build and vulnerability notifications sent to the
 * same URL), and pushes with an empty tag list.
 *
 * Invalid, one message per tag while the other tags are still enqueued: a tag that is not a string
 * or not a valid tag.
 *
 * @throws {MalformedEventError} when `updated_tags` is neither array nor object, or `docker_url`
 *   is not a repository reference without tag or digest.
 */
export const normalizeQuay: Normalizer = (delivery) => {
  const body = JsonField.root(delivery.body);
  const tagsField = body.get('updated_tags');
  if (tagsField.isAbsent) return ignore('not a repository push notification (no updated_tags)');
  const tags = updatedTags(tagsField);
  const urlField = body.get('docker_url');
  const repo = imageRefIn(urlField);
  if (repo.tag !== undefined || repo.digest !== undefined) {
    urlField.fail('expected a repository without tag or digest');
  }
  if (tags.length === 0) return ignore('push notification without updated tags');
  const { results: events, invalid } = judgeEach(tags, (tag) =>
    buildPushEvent({
      source: 'quay',
      target: imageTarget({
        registry: { value: repo.registry, path: urlField.path },
        repository: { value: repo.repository, path: urlField.path },
        tag: { value: tag.value(), path: tag.path },
      }),
      receivedAt: delivery.receivedAt,
    }),
  );
  return withInvalid({ events, ignored: [] }, invalid);
};

/** The tags of either form, each once, in payload order; each read when judged. */
function updatedTags(field: JsonField): { value: () => string; path: string }[] {
  const tags = field.isObject
    ? field.keys().map((key) => ({ value: () => key, path: field.get(key).path, key }))
    : field
        .items()
        .map((item) => ({ value: () => item.string(), path: item.path, key: item.value }));
  const seen = new Set<unknown>();
  return tags.filter((tag) => !seen.has(tag.key) && seen.add(tag.key));
}
