import type { Normalizer, PushEvent } from '../push-event.js';
import { buildPushEvent } from './build-push-event.js';
import { derivedEventId, perTagEventId } from './event-id.js';
import { optionalRfc3339Time, unixSecondsTime } from './event-time.js';
import { ignore } from './ignore.js';
import { imageRefIn, imageTarget } from './image-target.js';
import { JsonField, quoteText } from './json-field.js';
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
 * @throws {MalformedEventError} for a push without `resources`, `repository.repo_full_name` or a
 *   parseable `resource_url`, or with an invalid tag, digest or time.
 */
export const normalizeHarbor: Normalizer = (delivery) => {
  const body = JsonField.root(delivery.body);
  const isCloudEvent = !body.get('specversion').isAbsent;
  const type = body.get('type').string();
  if (type !== (isCloudEvent ? CLOUD_EVENTS_PUSH_TYPE : DEFAULT_PUSH_TYPE)) {
    return ignore(`unsupported Harbor event type ${quoteText(type)}`);
  }
  const format = isCloudEvent ? cloudEventPush(body) : defaultPush(body);
  const repoName = format.data.get('repository').get('repo_full_name');
  const repository = repoName.nonEmptyString();
  const events: PushEvent[] = [];
  const ignored: string[] = [];
  const resources = format.data.get('resources').items();
  for (const resource of resources) {
    const tagField = resource.get('tag');
    const tag = tagField.optionalString() ?? '';
    const digest = optionalSha256Digest(resource.get('digest'));
    const urlField = resource.get('resource_url');
    const registry = imageRefIn(urlField).registry;
    if (tag === '' || tag.startsWith('sha256:')) {
      ignored.push(`${resource.path}: push by digest, without a tag`);
      continue;
    }
    const target = imageTarget({
      registry: { value: registry, path: urlField.path },
      repository: { value: repository, path: repoName.path },
      tag: { value: tag, path: tagField.path },
    });
    const sourceEventId =
      format.deliveryId === undefined
        ? derivedEventId([
            `${target.registry}/${target.repository}`,
            tag,
            digest ?? '',
            format.occurredAt ?? '',
          ])
        : perTagEventId(format.deliveryId, tag);
    events.push(
      buildPushEvent({
        source: 'harbor',
        target,
        digest,
        sourceEventId,
        occurredAt: format.occurredAt,
        receivedAt: delivery.receivedAt,
      }),
    );
  }
  if (resources.length === 0) ignored.push('push without resources');
  return { events, ignored };
};

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
