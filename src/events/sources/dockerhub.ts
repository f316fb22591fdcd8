import { DOCKER_HUB_REGISTRY } from '../image-ref.js';
import type { Normalizer } from '../push-event.js';
import { buildPushEvent } from './build-push-event.js';
import { derivedEventId } from './event-id.js';
import { unixSecondsTime } from './event-time.js';
import { ignore } from './ignore.js';
import { imageTarget } from './image-target.js';
import { JsonField, quoteText } from './json-field.js';

/**
 * Docker Hub repository webhooks (registry-events.md §2): `push_data.tag` pushed to
 * `repository.repo_name` on `docker.io` (`nginx` and `library/nginx` both become
 * `library/nginx`). One `push` event, without digest: Docker Hub does not send one.
 *
 * Docker Hub sends no event id, so `sourceEventId` is derived from repository, tag and
 * `push_data.pushed_at` (Unix seconds, fractions dropped): a redelivery gets the same id, a new
 * push of the same tag a new one. `occurredAt` is `pushed_at`. `callback_url` is never used.
 *
 * Ignored: a push with an empty tag.
 *
 * @throws {MalformedEventError} without `repository.repo_name`, `push_data.tag` or a Unix-seconds
 *   `push_data.pushed_at`, or when they are no valid repository or tag.
 */
export const normalizeDockerhub: Normalizer = (delivery) => {
  const body = JsonField.root(delivery.body);
  const repoName = body.get('repository').get('repo_name');
  const repository = repoName.nonEmptyString();
  const pushData = body.get('push_data');
  const tagField = pushData.get('tag');
  const tag = tagField.string();
  const pushedAt = pushData.get('pushed_at');
  const occurredAt = unixSecondsTime(pushedAt);
  if (tag === '') return ignore(`push to ${quoteText(repository)} without a tag`);
  const target = imageTarget({
    registry: { value: DOCKER_HUB_REGISTRY, path: repoName.path },
    repository: { value: repository, path: repoName.path },
    tag: { value: tag, path: tagField.path },
  });
  const pushedAtSeconds = Math.floor(pushedAt.number());
  const event = buildPushEvent({
    source: 'dockerhub',
    target,
    sourceEventId: derivedEventId([target.repository, target.tag, String(pushedAtSeconds)]),
    occurredAt,
    receivedAt: delivery.receivedAt,
  });
  return { events: [event], ignored: [] };
};
