/**
 * Image references (`registry/repository[:tag][@digest]`), parsed and normalized the way Docker
 * does it (distribution/reference `ParseNormalizedNamed` and `FamiliarName`), so that a name a
 * person writes in a ContainerVersion and the name a registry sends in a push event meet on the
 * same key. Pure and synchronous.
 *
 * Grammar (distribution/reference `regexp.go`):
 *
 * ```
 * reference        := name [ ":" tag ] [ "@" digest ]
 * name             := [domain "/"] path-component ["/" path-component]*
 * domain           := host [":" port-number]
 * host             := domain-name | IPv4address | "[" IPv6address "]"
 * domain-component := /([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])/
 * path-component   := alpha-numeric [separator alpha-numeric]*
 * alpha-numeric    := /[a-z0-9]+/
 * separator        := /[._]|__|[-]+/
 * tag              := /[\w][\w.-]{0,127}/
 * digest           := sha256:<64 lowercase hex> | sha384:<96> | sha512:<128>   (go-digest)
 * ```
 *
 * Deliberate differences from Docker, each so that a parsed name can be routed and re-parsed:
 * `registry-1.docker.io` is normalized to `docker.io` like `index.docker.io`; a first component
 * that contains `.` but is no valid host (`my_host.local/app`) is rejected instead of becoming a
 * registry-less name; {@link familiarImageRef} keeps `docker.io/` when dropping it would make the
 * first path component read as a host.
 */

/** A parsed, normalized image reference. */
export interface ImageRef {
  /** Registry host with optional port, as written (`docker.io` for Docker Hub, `localhost:5000`). */
  registry: string;
  /** Repository path without registry, normalized (`library/nginx`, `shop/api`). */
  repository: string;
  /** Tag, when the reference names one. Never defaulted by {@link parseImageRef}. */
  tag?: string;
  /** Digest `algorithm:hex`, when the reference names one. */
  digest?: string;
}

/** Thrown by {@link parseImageRef} and {@link parseRepository}; a permanent error: retrying cannot help. */
export class InvalidImageRefError extends Error {
  override readonly name = 'InvalidImageRefError';

  /**
   * @param input the text that failed to parse, unchanged
   * @param reason why, in words for the person who wrote it (`repository name must be lowercase`)
   */
  constructor(
    readonly input: string,
    readonly reason: string,
  ) {
    super(`invalid image reference ${quote(input)}: ${reason}`);
  }
}

/** The registry Docker Hub's names normalize to. */
export const DOCKER_HUB_REGISTRY = 'docker.io';

/** Docker Hub's other host names, normalized to {@link DOCKER_HUB_REGISTRY}. */
const DOCKER_HUB_ALIASES: ReadonlySet<string> = new Set([
  'index.docker.io',
  'registry-1.docker.io',
]);
const OFFICIAL_PREFIX = 'library/';
const DEFAULT_TAG = 'latest';

/** Docker's limit on the repository path (after normalization, so `library/` counts). */
const REPOSITORY_MAX_LENGTH = 255;
const TAG_MAX_LENGTH = 128;

const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const HOST_AND_PORT = new RegExp(
  `^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?$`,
);
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^\w[\w.-]*$/;
const IMAGE_ID = /^[a-f0-9]{64}$/;
const DIGEST_SHAPE = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-zA-Z]+$/;
/** Hex length of each algorithm go-digest accepts; other algorithms are unsupported. */
const DIGEST_HEX_LENGTHS: ReadonlyMap<string, number> = new Map([
  ['sha256', 64],
  ['sha384', 96],
  ['sha512', 128],
]);

/**
 * Parses and normalizes an image reference like `docker pull` does: `nginx` →
 * `{ registry: 'docker.io', repository: 'library/nginx' }`; `user/app:1` → Docker Hub `user/app`
 * tag `1`; `index.docker.io` and `registry-1.docker.io` → `docker.io`. The first component is a
 * registry only when it contains `.` or `:`, is `localhost`, or has upper-case letters (which a
 * repository cannot); so `x:5000` is repository `library/x` with tag `5000`. A tag is not
 * defaulted: see {@link withDefaultTag}. Registry case is kept as written.
 *
 * @throws {InvalidImageRefError} for anything Docker rejects: an empty reference, a 64-character
 *   hex image ID, upper case in the repository, an invalid registry host, path component, tag or
 *   digest, or a repository path over 255 characters.
 */
export function parseImageRef(text: string): ImageRef {
  const fail = (reason: string): never => {
    throw new InvalidImageRefError(text, reason);
  };
  if (text === '') fail('reference is empty');
  if (IMAGE_ID.test(text)) fail('a 64-character hex string is an image ID, not a repository name');
  if (/^[:@][^/]*$/.test(text)) fail('repository name is empty');

  const { registry, remainder } = splitRegistry(text);
  const at = remainder.indexOf('@');
  const nameAndTag = at === -1 ? remainder : remainder.slice(0, at);
  const digest = at === -1 ? undefined : remainder.slice(at + 1);
  const colon = nameAndTag.indexOf(':');
  const repository = colon === -1 ? nameAndTag : nameAndTag.slice(0, colon);
  const tag = colon === -1 ? undefined : nameAndTag.slice(colon + 1);

  const reason =
    repositoryProblem(registry, repository) ??
    (tag === undefined ? undefined : tagProblem(tag)) ??
    (digest === undefined ? undefined : digestProblem(digest));
  if (reason !== undefined) fail(reason);

  const ref: ImageRef = { registry, repository };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

/** {@link parseImageRef} without throwing: `error` is the full message, naming the input and the reason. */
export function tryParseImageRef(
  text: string,
): { ok: true; ref: ImageRef } | { ok: false; error: string } {
  try {
    return { ok: true, ref: parseImageRef(text) };
  } catch (err) {
    if (err instanceof InvalidImageRefError) return { ok: false, error: err.message };
    throw err;
  }
}

/**
 * Parses a repository without tag or digest (a ContainerVersion's `spec.imageRepo`), normalized
 * like {@link parseImageRef}: `nginx` → `docker.io/library/nginx`.
 *
 * @throws {InvalidImageRefError} for everything {@link parseImageRef} rejects, and when the text
 *   names a tag or digest; the reason says which, and explains that `host:5000` without a path is
 *   read as repository `host` with tag `5000`.
 */
export function parseRepository(text: string): ImageRef {
  const ref = parseImageRef(text);
  const hint = text.includes('/')
    ? ''
    : `; without a "/", ${quote(text)} is read as a Docker Hub repository, not a registry host`;
  if (ref.tag !== undefined) {
    throw new InvalidImageRefError(
      text,
      `a repository must not include a tag (found tag ${quote(ref.tag)})${hint}`,
    );
  }
  if (ref.digest !== undefined) {
    throw new InvalidImageRefError(
      text,
      `a repository must not include a digest (found ${quote(ref.digest)})`,
    );
  }
  return { registry: ref.registry, repository: ref.repository };
}

/**
 * The fully-qualified form `registry/repository[:tag][@digest]`
 * (`docker.io/library/nginx:1.25@sha256:…`). Expects a ref from {@link parseImageRef}; it does
 * not validate, so `parseImageRef(formatImageRef(ref))` equals `ref` for every parsed ref.
 */
export function formatImageRef(ref: ImageRef): string {
  return withSuffix(`${ref.registry}/${ref.repository}`, ref);
}

/**
 * Docker's short form, as `docker images` shows it: `docker.io/` and a single-level `library/`
 * are dropped (`nginx:1.25`, `user/app`, `library/a/b`); other registries are kept. Unlike
 * Docker, `docker.io/` stays when the first path component would otherwise read as a registry
 * host (`docker.io/example.com/app`), so the result always parses back to the same ref.
 */
export function familiarImageRef(ref: ImageRef): string {
  if (ref.registry !== DOCKER_HUB_REGISTRY) return formatImageRef(ref);
  const official = ref.repository.startsWith(OFFICIAL_PREFIX)
    ? ref.repository.slice(OFFICIAL_PREFIX.length)
    : undefined;
  if (official !== undefined && !official.includes('/')) return withSuffix(official, ref);
  if (looksLikeHost(firstComponent(ref.repository))) return formatImageRef(ref);
  return withSuffix(ref.repository, ref);
}

/**
 * `registry/repository` without tag or digest: the key that routes a push to the
 * ContainerVersions following that repository. The registry is lower-cased because host names
 * are case-insensitive, so `Registry.example.com/app` and `registry.example.com/app` share a key.
 */
export function repositoryKey(ref: ImageRef): string {
  return `${ref.registry.toLowerCase()}/${ref.repository}`;
}

/** `ref` with tag `latest` when it has neither tag nor digest (Docker's `TagNameOnly`); otherwise `ref` unchanged. */
export function withDefaultTag(ref: ImageRef): ImageRef {
  if (ref.tag !== undefined || ref.digest !== undefined) return ref;
  return { ...ref, tag: DEFAULT_TAG };
}

/** Whether `text` is a digest Docker accepts: `sha256:` + 64, `sha384:` + 96 or `sha512:` + 128 lowercase hex. */
export function isDigest(text: string): boolean {
  return digestProblem(text) === undefined;
}

/** Docker's `splitDockerDomain`, plus the `registry-1.docker.io` alias. */
function splitRegistry(text: string): { registry: string; remainder: string } {
  const slash = text.indexOf('/');
  if (slash === -1) return { registry: DOCKER_HUB_REGISTRY, remainder: OFFICIAL_PREFIX + text };
  const first = text.slice(0, slash);
  const rest = text.slice(slash + 1);
  if (!looksLikeHost(first) && first.toLowerCase() === first) {
    return { registry: DOCKER_HUB_REGISTRY, remainder: text };
  }
  if (DOCKER_HUB_ALIASES.has(first) || first === DOCKER_HUB_REGISTRY) {
    const official = rest.includes('/') ? rest : OFFICIAL_PREFIX + rest;
    return { registry: DOCKER_HUB_REGISTRY, remainder: official };
  }
  return { registry: first, remainder: rest };
}

function looksLikeHost(component: string): boolean {
  return component === 'localhost' || component.includes('.') || component.includes(':');
}

function firstComponent(repository: string): string {
  const slash = repository.indexOf('/');
  return slash === -1 ? repository : repository.slice(0, slash);
}

function repositoryProblem(registry: string, repository: string): string | undefined {
  if (repository.toLowerCase() !== repository) return 'repository name must be lowercase';
  if (!HOST_AND_PORT.test(registry)) {
    return `registry host ${quote(registry)} is invalid: expected a host name, IPv4 address or [IPv6] address, with an optional :port`;
  }
  if (repository === '') return 'repository name is empty';
  for (const component of repository.split('/')) {
    if (component === '')
      return 'repository name has an empty path component (a double or trailing "/")';
    if (!PATH_COMPONENT.test(component)) {
      return `repository path component ${quote(component)} is invalid: use lowercase letters and digits, separated by one ".", one "_", "__" or any number of "-"`;
    }
  }
  if (repository.length > REPOSITORY_MAX_LENGTH) {
    return `repository name must not be more than ${REPOSITORY_MAX_LENGTH} characters (got ${repository.length})`;
  }
  return undefined;
}

function tagProblem(tag: string): string | undefined {
  if (tag === '') return 'tag is empty (nothing after ":")';
  if (tag.length > TAG_MAX_LENGTH) {
    return `tag must not be more than ${TAG_MAX_LENGTH} characters (got ${tag.length})`;
  }
  if (!TAG.test(tag)) {
    return `tag ${quote(tag)} is invalid: use letters, digits, "_", "." and "-", not starting with "." or "-"`;
  }
  return undefined;
}

function digestProblem(digest: string): string | undefined {
  if (digest === '') return 'digest is empty (nothing after "@")';
  if (!DIGEST_SHAPE.test(digest)) {
    return `digest ${quote(digest)} is invalid: expected algorithm:hex, such as sha256:<64 hex characters>`;
  }
  const colon = digest.indexOf(':');
  const algorithm = digest.slice(0, colon);
  const hex = digest.slice(colon + 1);
  const length = DIGEST_HEX_LENGTHS.get(algorithm);
  if (length === undefined) {
    return `unsupported digest algorithm ${quote(algorithm)}: expected sha256, sha384 or sha512`;
  }
  if (hex.length !== length) {
    return `${algorithm} digest must have ${length} hex characters (got ${hex.length})`;
  }
  if (!/^[a-f0-9]+$/.test(hex)) return `${algorithm} digest must be lowercase hex`;
  return undefined;
}

function withSuffix(name: string, ref: ImageRef): string {
  const tag = ref.tag === undefined ? '' : `:${ref.tag}`;
  const digest = ref.digest === undefined ? '' : `@${ref.digest}`;
  return name + tag + digest;
}

/** JSON-quoted, and cut short so a huge input cannot flood a log line. */
function quote(text: string): string {
  const limit = 300;
  return JSON.stringify(text.length > limit ? `${text.slice(0, limit)}…` : text);
}
