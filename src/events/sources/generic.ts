/**
 * # Generic push events, for CI systems
 *
 * A CI job that has pushed an image can tell cvm directly with one small JSON document:
 *
 * ```json
 * { "image": "registry.example.com/team/api:1.4.2", "digest": "sha256:1bc0…6e6", "id": "build-8812" }
 * ```
 *
 * | field | required | meaning |
 * |---|---|---|
 * | `image` | yes | The pushed image as `docker pull` reads it, **with a tag**: `team/api:1.4.2` (Docker Hub), `nginx:1.27` (→ `docker.io/library/nginx`), `registry.example.com:5000/team/api:1.4.2`. The combined form `repo:tag@sha256:<64 hex>` is accepted too. A registry host must contain `.` or `:port` or be `localhost`, as for Docker. |
 * | `digest` | no | The manifest digest the tag now points at, `sha256:` + 64 lowercase hex. When `image` also names a digest, both must be equal. |
 * | `id` | no | Your id of this push (1–200 characters of letters, digits, `.`, `_`, `-`, `/`), used to drop a duplicate delivery of the same push. Without it, a repeated delivery is enqueued again unless the first one still waits (same image and digest), which is harmless: cvm re-resolves the tag. |
 *
 * Other fields are ignored. cvm treats the event as a hint: it re-reads the tag's digest from the
 * registry before it rolls anything out. Without a digest, two reports of the same tag within the
 * deduplication window count as one, so send the digest (or an `id`) when a tag is re-pushed
 * often.
 *
 * Malformed documents are rejected with a message naming the field (`image: the image reference
 * names no tag`).
 *
 * @module
 */
import type { Normalizer } from '../push-event.js';
import { buildPushEvent } from './build-push-event.js';
import { imageRefIn, imageTargetOfRef } from './image-target.js';
import { JsonField, quoteText } from './json-field.js';
import { isSha256Digest, optionalSha256Digest } from './sha256-digest.js';

const EVENT_ID = /^[A-Za-z0-9._/-]{1,200}$/;

/**
 * The generic push event above: one `push` event for `image`'s registry, repository and tag, with
 * `digest` (or the one in `image`) and `id`, when given, as `sourceEventId`.
 *
 * @throws {MalformedEventError} naming `image`, `digest` or `id` when one is invalid.
 */
export const normalizeGeneric: Normalizer = (delivery) => {
  const body = JsonField.root(delivery.body);
  const imageField = body.get('image');
  const ref = imageRefIn(imageField);
  if (ref.digest !== undefined && !isSha256Digest(ref.digest)) {
    imageField.fail(`expected a sha256 digest, got ${quoteText(ref.digest)}`);
  }
  const target = imageTargetOfRef(ref, imageField);
  const digestField = body.get('digest');
  const digest = optionalSha256Digest(digestField);
  if (digest !== undefined && ref.digest !== undefined && digest !== ref.digest) {
    digestField.fail(`differs from the digest in image (${ref.digest})`);
  }
  const idField = body.get('id');
  const id = idField.optionalString();
  if (id !== undefined && !EVENT_ID.test(id)) {
    idField.fail('expected 1 to 200 letters, digits, ".", "_", "-" or "/"');
  }
  const finalDigest = digest ?? ref.digest;
  const event = buildPushEvent({
    source: 'generic',
    target,
    digest: finalDigest,
    sourceEventId: id,
    receivedAt: delivery.receivedAt,
  });
  return { events: [event], ignored: [] };
};
