import {
  InvalidImageRefError,
  parseImageRef,
  tryParseImageRef,
  type ImageRef,
} from '../image-ref.js';
import { MalformedEventError } from '../push-event.js';
import { quoteText, type JsonField } from './json-field.js';

/** Where a PushEvent points: normalized so that `parseImageRef(`${registry}/${repository}:${tag}`)` gives it back. */
export interface ImageTarget {
  /** Lower-case registry host with optional port; `docker.io` for Docker Hub and its aliases. */
  registry: string;
  /** Normalized like Docker (`library/nginx`). */
  repository: string;
  tag: string;
}

/** A value and the payload path to blame when it is invalid. */
export interface Located {
  value: string;
  path: string;
}

/**
 * Host names Docker reads as a registry without a port: anything else without `.` or `:` would
 * be read as the first path component of a Docker Hub repository.
 */
const HOST =
  /^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*|\[[a-f0-9:]+\])(?::[0-9]+)?$/;

/**
 * Validates and normalizes a registry host, repository and tag that a payload gives separately.
 * The host is lower-cased; it must be one Docker reads as a host (containing `.` or `:port`, or
 * `localhost`), else an image reference naming it would mean a Docker Hub repository.
 *
 * @throws {MalformedEventError} naming the path of the first invalid part.
 */
export function imageTarget(parts: {
  registry: Located;
  repository: Located;
  tag: Located;
}): ImageTarget {
  const { registry, repository, tag } = parts;
  const host = registry.value.toLowerCase();
  if (!HOST.test(host) || !(host.includes('.') || host.includes(':') || host === 'localhost')) {
    throw malformed(
      registry.path,
      `${quoteText(registry.value)} is not a registry host (expected a host name with a "." or a ":port", or localhost)`,
    );
  }
  const tagged = tryParseImageRef(`localhost/x:${tag.value}`);
  if (!tagged.ok || tagged.ref.tag !== tag.value) {
    throw malformed(tag.path, `${quoteText(tag.value)} is not a valid tag`);
  }
  let ref: ImageRef;
  try {
    ref = parseImageRef(`${host}/${repository.value}`);
  } catch (err) {
    if (!(err instanceof InvalidImageRefError)) throw err;
    throw malformed(
      repository.path,
      `${quoteText(repository.value)} is not a valid repository: ${err.reason}`,
    );
  }
  if (ref.tag !== undefined || ref.digest !== undefined) {
    throw malformed(
      repository.path,
      `${quoteText(repository.value)} is not a valid repository: it names a tag or digest`,
    );
  }
  return { registry: ref.registry.toLowerCase(), repository: ref.repository, tag: tag.value };
}

/**
 * Parses an image reference in a payload (`us-east1-docker.pkg.dev/p/r/img:1.1`,
 * `harbor.dev/library/busybox@sha256:…`), like `docker pull` reads it.
 *
 * @throws {MalformedEventError} naming `field` when it is not a string or not a valid reference.
 */
export function imageRefIn(field: JsonField): ImageRef {
  const text = field.string();
  const parsed = tryParseImageRef(text);
  if (!parsed.ok) field.fail(parsed.error);
  return parsed.ref;
}

/**
 * {@link imageTarget} for a reference parsed by {@link imageRefIn}: the whole reference is to
 * blame for any invalid part. The tag must be present.
 */
export function imageTargetOfRef(ref: ImageRef, field: JsonField): ImageTarget {
  if (ref.tag === undefined) field.fail('the image reference names no tag');
  const at = { path: field.name };
  return imageTarget({
    registry: { ...at, value: ref.registry },
    repository: { ...at, value: ref.repository },
    tag: { ...at, value: ref.tag },
  });
}

function malformed(path: string, reason: string): MalformedEventError {
  return new MalformedEventError(path, reason);
}
