import { repositoryKey, type ImageRef } from '../image-ref.js';
import type { Normalizer } from '../push-event.js';
import { buildPushEvent } from './build-push-event.js';
import { ignore } from './ignore.js';
import { imageRefIn, imageTargetOfRef } from './image-target.js';
import { quoteText, type JsonField } from './json-field.js';
import { pubsubMessage } from './pubsub-message.js';
import { isSha256Digest } from './sha256-digest.js';

/**
 * Google Artifact Registry and Container Registry notifications from the `gcr` Pub/Sub topic
 * through a push subscription (registry-events.md §3.4), wrapped or unwrapped (see
 * {@link pubsubMessage}). The message data
 * `{"action":"INSERT","digest":"<host>/<project>/<repo>/<image>@sha256:…","tag":"<host>/…/<image>:1.1"}`
 * is one `push` event: registry, repository and tag from the full reference in `tag`, digest from
 * the one in `digest`; `sourceEventId` the Pub/Sub `messageId`, `occurredAt` its `publishTime`.
 *
 * Ignored: INSERT without `tag` (an untagged manifest), DELETE, other actions.
 *
 * @throws {MalformedEventError} naming `message.data` when the data is not base64 JSON, or
 *   `message.data.tag` / `.digest` when a reference is invalid, lacks its tag or sha256 digest, or
 *   the two name different repositories.
 */
export const normalizeGar: Normalizer = (delivery) => {
  const message = pubsubMessage(delivery);
  const data = message.data;
  const action = data.get('action').string();
  if (action !== 'INSERT')
    return ignore(`Artifact Registry action ${quoteText(action)} is not a push`);
  const digestField = data.get('digest');
  const digestRef =
    digestField.optionalNonEmptyString() === undefined ? undefined : digestReference(digestField);
  const tagField = data.get('tag');
  if (tagField.optionalNonEmptyString() === undefined) {
    return ignore(`push of an untagged image (${digestRef?.digest ?? 'no digest'})`);
  }
  const tagRef = imageRefIn(tagField);
  if (tagRef.digest !== undefined) tagField.fail('expected a reference with a tag and no digest');
  const target = imageTargetOfRef(tagRef, tagField);
  if (digestRef !== undefined && repositoryKey(digestRef) !== repositoryKey(target)) {
    digestField.fail(`names another repository than tag (${quoteText(repositoryKey(target))})`);
  }
  const event = buildPushEvent({
    source: 'gar',
    target,
    digest: digestRef?.digest,
    sourceEventId: message.messageId,
    occurredAt: message.publishTime,
    receivedAt: delivery.receivedAt,
  });
  return { events: [event], ignored: [] };
};

/** `<host>/…/<image>@sha256:…`: a reference with a sha256 digest and no tag. */
function digestReference(field: JsonField): ImageRef & { digest: string } {
  const ref = imageRefIn(field);
  const digest = ref.digest;
  if (digest === undefined || ref.tag !== undefined || !isSha256Digest(digest)) {
    return field.fail('expected a reference with a sha256 digest and no tag (<image>@sha256:…)');
  }
  return { ...ref, digest };
}
