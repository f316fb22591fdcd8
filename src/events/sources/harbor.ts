import type { Normalizer, PushEvent } from '../push-event.js';
import { buildPushEvent } from './build-push-event.js';
import { derivedEventId, perTagEventId } from './event-id.js';
import { optionalRfc3339Time, unixSecondsTime } from './event-time.js';
import { ignore } from './ignore.js';
import { imageRefIn, imageTarget, type Located } from './image-target.js';
import { JsonField, quoteText } from './json-field.js';
import { judgeEach, withInvalid } from './judge-each.js';
import { optionalSha256Digest } from './sha256-digest.js';

const DEFAULT_PUSH_TYPE = 'PUSH_ARTIFACT';
const CLOUD_EVENTS_PUSH_TYPE = 'harbor.artifact.pushed';

/** Where each Harbor payload format keeps the parts of a push. */
interface HarborPush {
  data: JsonField;
  deliveryId: string | undefined;
  occurredAt: string | undefined;
}

/**
 * Harbor webhooks (registry-events.md §3.1), in both payload formats: Default (`type`
 * `PUSH_ARTIFACT`, `event_data`, `occur_at` in Unix seconds) and CloudEvents (`specversion`, `type`
 * `harbor.artifact.pushed`, `data`, `id`, `time`). One `push` event per entry of
 * `resources` with a real tag: repository `repository.repo_full_name`, registry host from the
 * entry's `resource_url` (`docker.io` when it names no host, as Keel does), digest from `digest`.
 *
 * `sourceEventId`: CloudEvents `<id>/<tag>`; the Default format has no id, so one is derived from
 * repository, tag, digest and `occur_at`.
 *
 * Ignored: other event types (pulls, deletes, scans, quotas, replication), and resources whose
 * tag is empty or a digest (`sha256:…`, a push by digest).
 *
 * Invalid, one message per resource while the others are still enqueued: a resource without a
 * parseable `resource_url`, or with an invalid tag or digest.
 *
 * @throws {MalformedEventError} for a push without `resources` or `repository.repo_full_name`, or
 *   with an invalid time.
 */
export const normalizeHarbor: Normalizer = (delivery) => {
  const body = JsonField.root(delivery.body);
  const isCloudEvent = !body.get('specversion').isAbsent;
  const type = body.get('type').string();
  if (type !== (isCloudEvent ? CLOUD_EVENTS_PUSH_TYPE : DEFAULT_PUSH_TYPE)) {
    return ignore(`unsupported Harbor event type ${quoteText(type)}`);
  }
  const push = isCloudEvent ? cloudEventPush(body) : defaultPush(body);
  const repoName = push.data.get('repository').get('repo_full_name');
  const repository: Located = { value: repoName.nonEmptyString(), path: repoName.path };
  const events: PushEvent[] = [];
  const ignored: string[] = [];
  const resources = push.data.get('resources').items();
  const { results, invalid } = judgeEach(resources, (resource) => ({
    resource,
    outcome: resourcePush(resource, repository, push, delivery.receivedAt),
  }));
  for (const { resource, outcome } of results) {
    if (typeof outcome === 'string') ignored.push(`${resource.path}: ${outcome}`);
    else events.push(outcome);
  }
  if (resources.length === 0) ignored.push('push without resources');
  return withInvalid({ events, ignored }, invalid);
};

/** The PushEvent of one entry of `resources`, or why there is none. */
function resourcePush(
  resource: JsonField,
  repository: Located,
  push: HarborPush,
  receivedAt: Date,
): PushEvent | string {
  const tagField = resource.get('tag');
  const tag = tagField.optionalString() ?? '';
  const digest = optionalSha256Digest(resource.get('digest'));
  const urlField = resource.get('resource_url');
  const registry = imageRefIn(urlField).registry;
  if (tag === '' || tag.startsWith('sha256:')) return 'push by digest, without a tag';
  const target = imageTarget({
    registry: { value: registry, path: urlField.path },
    repository,
    tag: { value: tag, path: tagField.path },
  });
  const sourceEventId =
    push.deliveryId === undefined
      ? derivedEventId([
          `${target.registry}/${target.repository}`,
          tag,
          digest ?? '',
          push.occurredAt ?? '',
        ])
      : perTagEventId(push.deliveryId, tag);
  return buildPushEvent({
    source: 'harbor',
    target,
    digest,
    sourceEventId,
    occurredAt: push.occurredAt,
    receivedAt,
  });
}

function defaultPush(body: JsonField): HarborPush {
  const occurAt = body.get('occur_at');
  return {
    data: body.get('event_data'),
    deliveryId: undefined,
    occurredAt: occurAt.isAbsent ? undefined : unixSecondsTime(occurAt),
  };
}

function cloudEventPush(body: JsonField): HarborPush {
  return {
    data: body.get('data'),
    deliveryId: body.get('id').optionalNonEmptyString(),
    occurredAt: optionalRfc3339Time(body.get('time')),
  };
}
