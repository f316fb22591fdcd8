import { MalformedEventError, type Normalized, type Normalizer } from '../push-event.js';
import { buildPushEvent } from './build-push-event.js';
import { optionalRfc3339Time } from './event-time.js';
import { ignore } from './ignore.js';
import { imageTarget } from './image-target.js';
import { JsonField, quoteText } from './json-field.js';
import { isSha256Digest, optionalSha256Digest } from './sha256-digest.js';

const GHCR_REGISTRY = 'ghcr.io';
const PACKAGE_EVENTS: ReadonlySet<string> = new Set(['package', 'registry_package']);
const PUBLISH_ACTIONS: ReadonlySet<string> = new Set(['published', 'updated']);

/**
 * GitHub `package` and `registry_package` webhooks for GitHub Container Registry
 * (registry-events.md §3.3); the event name is the `x-github-event` header and the package is
 * under the body key of the same name. An action `published` or `updated` of a `CONTAINER`
 * package with a tag in `package_version.container_metadata.tag.name` is one `push` event for
 * `ghcr.io/<namespace>/<name>` (lower-cased; namespace falls back to `owner.login`); digest from
 * `container_metadata.tag.digest`, else `package_version.name` when it is a digest;
 * `sourceEventId` the `x-github-delivery` header; `occurredAt` the version's `updated_at`.
 * The HMAC signature is the receiver's to check.
 *
 * Ignored: `ping`, other GitHub events, other actions, non-container packages, untagged versions
 * (children of a multi-arch image, attestations).
 *
 * @throws {MalformedEventError} without an `x-github-event` header, or for a container package
 *   event without a valid package name, namespace, tag or digest.
 */
export const normalizeGhcr: Normalizer = (delivery) => {
  const eventName = delivery.headers['x-github-event'];
  if (eventName === undefined || eventName === '') {
    throw new MalformedEventError('headers.x-github-event', 'required, but missing');
  }
  if (eventName === 'ping') return ignore('ping');
  if (!PACKAGE_EVENTS.has(eventName)) {
    return ignore(`unsupported GitHub event ${quoteText(eventName)}`);
  }
  const body = JsonField.root(delivery.body);
  const action = body.get('action').string();
  if (!PUBLISH_ACTIONS.has(action)) return ignore(`package action ${quoteText(action)}`);
  return containerVersion(body.get(eventName), delivery.headers, delivery.receivedAt);
};

function containerVersion(
  pkg: JsonField,
  headers: Readonly<Record<string, string | undefined>>,
  receivedAt: Date,
): Normalized {
  const typeField = pkg.get('package_type').isAbsent
    ? pkg.get('ecosystem')
    : pkg.get('package_type');
  const type = typeField.string();
  if (type.toLowerCase() !== 'container') {
    return ignore(`package type ${quoteText(type)} is not a container`);
  }
  const nameField = pkg.get('name');
  const name = nameField.nonEmptyString();
  const namespace =
    pkg.get('namespace').optionalNonEmptyString() ?? pkg.get('owner').get('login').nonEmptyString();
  const version = pkg.get('package_version');
  const tagField = version.get('container_metadata').get('tag');
  const tagNameField = tagField.isAbsent ? undefined : tagField.get('name');
  const tag = tagNameField?.optionalString() ?? '';
  const digest = tagField.isAbsent ? undefined : optionalSha256Digest(tagField.get('digest'));
  const versionName = version.get('name').optionalString();
  const repository = `${namespace}/${name}`.toLowerCase();
  if (tagNameField === undefined || tag === '') {
    return ignore(`untagged version of ${quoteText(`${GHCR_REGISTRY}/${repository}`)}`);
  }
  const event = buildPushEvent({
    source: 'ghcr',
    target: imageTarget({
      registry: { value: GHCR_REGISTRY, path: nameField.path },
      repository: { value: repository, path: nameField.path },
      tag: { value: tag, path: tagNameField.path },
    }),
    digest:
      digest ??
      (versionName !== undefined && isSha256Digest(versionName) ? versionName : undefined),
    sourceEventId: nonEmpty(headers['x-github-delivery']),
    occurredAt: optionalRfc3339Time(version.get('updated_at')),
    receivedAt,
  });
  return { events: [event], ignored: [] };
}

function nonEmpty(text: string | undefined): string | undefined {
  return text === '' ? undefined : text;
}
