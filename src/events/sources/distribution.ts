import type { Normalizer, PushEvent } from '../push-event.js';
import { buildPushEvent } from './build-push-event.js';
import { optionalRfc3339Time } from './event-time.js';
import { imageTarget } from './image-target.js';
import { JsonField, quoteText } from './json-field.js';
import { isManifestMediaType } from './manifest-media-types.js';
import { judgeEach, withInvalid } from './judge-each.js';
import { sha256Digest } from './sha256-digest.js';

/**
 * CNCF Distribution (registry:2/3, GitLab, Zot) notifications (registry-events.md §3.6): an
 * envelope `{events: […]}` of unrelated events. Each `push` of a manifest with a `target.tag` is
 * one `push` event: registry `request.host` (lower-cased, port kept), repository
 * `target.repository`, digest `target.digest`, `sourceEventId` the event `id`, `occurredAt` its
 * `timestamp`. A target is a manifest when its `mediaType` is an OCI or Docker manifest or index
 * type, or, without `mediaType`, when its `url` contains `/manifests/`.
 *
 * Ignored, one reason per event: pulls, deletes, mounts and other actions; blob pushes; manifest
 * pushes without a tag (by digest, children of an index); and an envelope without events.
 *
 * Invalid, one message per event naming `events[i]…`, while the other events are still judged: an
 * event without an `action`, or a tagged manifest push without a valid `target.repository`,
 * `target.digest` or `request.host`.
 *
 * @throws {MalformedEventError} when `events` is not an array.
 */
export const normalizeDistribution: Normalizer = (delivery) => {
  const body = JsonField.root(delivery.body);
  const entries = body.get('events').items();
  const events: PushEvent[] = [];
  const ignored: string[] = [];
  const { results, invalid } = judgeEach(entries, (entry) => ({
    entry,
    outcome: manifestPush(entry, delivery.receivedAt),
  }));
  for (const { entry, outcome } of results) {
    if (typeof outcome === 'string') ignored.push(`${entry.path}: ${outcome}`);
    else events.push(outcome);
  }
  if (entries.length === 0) ignored.push('envelope without events');
  return withInvalid({ events, ignored }, invalid);
};

/** The PushEvent of one envelope entry, or why there is none. */
function manifestPush(entry: JsonField, receivedAt: Date): PushEvent | string {
  const action = entry.get('action').string();
  if (action !== 'push') return `${quoteText(action)} is not a push`;
  const target = entry.get('target');
  const mediaType = target.get('mediaType').optionalNonEmptyString();
  const isManifest =
    mediaType === undefined
      ? (target.get('url').optionalString() ?? '').includes('/manifests/')
      : isManifestMediaType(mediaType);
  if (!isManifest)
    return `push of a blob (${mediaType === undefined ? 'no media type' : quoteText(mediaType)})`;
  const repository = target.get('repository');
  const repositoryName = repository.nonEmptyString();
  const digest = sha256Digest(target.get('digest'));
  const tag = target.get('tag');
  const tagName = tag.optionalString() ?? '';
  if (tagName === '') return `push of an untagged manifest (${digest})`;
  const host = entry.get('request').get('host');
  return buildPushEvent({
    source: 'distribution',
    target: imageTarget({
      registry: { value: host.nonEmptyString(), path: host.path },
      repository: { value: repositoryName, path: repository.path },
      tag: { value: tagName, path: tag.path },
    }),
    digest,
    sourceEventId: entry.get('id').optionalNonEmptyString(),
    occurredAt: optionalRfc3339Time(entry.get('timestamp')),
    receivedAt,
  });
}
