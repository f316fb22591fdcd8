import type { Normalizer } from '../push-event.js';
import { buildPushEvent } from './build-push-event.js';
import { optionalRfc3339Time } from './event-time.js';
import { ignore } from './ignore.js';
import { imageTarget } from './image-target.js';
import { JsonField, quoteText } from './json-field.js';
import { sha256Digest } from './sha256-digest.js';

/**
 * Azure Container Registry webhooks (registry-events.md §3.5): action `push` with a
 * `target.tag` is one `push` event; registry `request.host` (`myregistry.azurecr.io`),
 * repository `target.repository`, digest `target.digest`, `sourceEventId` the event `id`,
 * `occurredAt` its `timestamp`.
 *
 * Ignored: `ping`, `delete`, `quarantine`, `chart_push`, `chart_delete` and unknown actions, and
 * pushes without a tag (by digest).
 *
 * @throws {MalformedEventError} for a push without `target.repository`, a `sha256` `target.digest`
 *   or `request.host`, or with an invalid tag or `timestamp`.
 */
export const normalizeAcr: Normalizer = (delivery) => {
  const body = JsonField.root(delivery.body);
  const action = body.get('action').string();
  if (action !== 'push') return ignore(`ACR action ${quoteText(action)} is not a push`);
  const target = body.get('target');
  const repository = target.get('repository');
  const host = body.get('request').get('host');
  const tag = target.get('tag');
  const repositoryName = repository.nonEmptyString();
  const digest = sha256Digest(target.get('digest'));
  const tagName = tag.optionalString() ?? '';
  if (tagName === '') return ignore(`push of an untagged manifest (${digest})`);
  const event = buildPushEvent({
    source: 'acr',
    target: imageTarget({
      registry: { value: host.nonEmptyString(), path: host.path },
      repository: { value: repositoryName, path: repository.path },
      tag: { value: tagName, path: tag.path },
    }),
    digest,
    sourceEventId: body.get('id').optionalNonEmptyString(),
    occurredAt: optionalRfc3339Time(body.get('timestamp')),
    receivedAt: delivery.receivedAt,
  });
  return { events: [event], ignored: [] };
};
