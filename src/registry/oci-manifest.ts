import { createHash } from 'node:crypto';
import { RegistryError, type Platform } from './registry-client.js';

export const MEDIA_TYPES = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
} as const;

/** Every manifest kind cvm understands; sent on every manifest request (never rely on the default). */
export const MANIFEST_ACCEPT = [
  MEDIA_TYPES.ociIndex,
  MEDIA_TYPES.dockerList,
  MEDIA_TYPES.ociManifest,
  MEDIA_TYPES.dockerManifest,
] as const;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size?: number;
  platform?: Platform;
  annotations?: Record<string, string>;
}

export type ParsedManifest =
  | { kind: 'index'; mediaType: string; manifests: Descriptor[] }
  | { kind: 'image'; mediaType: string; config: Descriptor; layers: Descriptor[] };

export const sha256Digest = (bytes: Uint8Array | string) =>
  `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function descriptor(value: unknown, where: string): Descriptor {
  if (!isRecord(value) || typeof value.digest !== 'string') {
    throw new RegistryError(`${where} is not a descriptor with a digest`, false);
  }
  const result: Descriptor = {
    mediaType: typeof value.mediaType === 'string' ? value.mediaType : '',
    digest: value.digest,
  };
  if (typeof value.size === 'number') result.size = value.size;
  const platform = value.platform;
  if (
    isRecord(platform) &&
    typeof platform.os === 'string' &&
    typeof platform.architecture === 'string'
  ) {
    result.platform = { os: platform.os, architecture: platform.architecture };
    if (typeof platform.variant === 'string') result.platform.variant = platform.variant;
  }
  if (isRecord(value.annotations)) {
    result.annotations = Object.fromEntries(
      Object.entries(value.annotations).filter(
        (e): e is [string, string] => typeof e[1] === 'string',
      ),
    );
  }
  return result;
}

/**
 * Parses manifest bytes; the kind comes from the `mediaType` field, else the `Content-Type`, else
 * the shape (`manifests` → index). @throws RegistryError (permanent) for anything else.
 */
export function parseManifest(
  body: string,
  contentType: string | undefined,
  what: string,
): ParsedManifest {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (error) {
    throw new RegistryError(`${what} is not JSON`, false, { cause: error });
  }
  if (!isRecord(json)) throw new RegistryError(`${what} is not a JSON object`, false);
  const declared = typeof json.mediaType === 'string' ? json.mediaType : undefined;
  const mediaType = declared ?? contentType?.split(';')[0]?.trim() ?? '';
  const isIndex =
    mediaType === MEDIA_TYPES.ociIndex ||
    mediaType === MEDIA_TYPES.dockerList ||
    Array.isArray(json.manifests);
  if (isIndex) {
    const list = Array.isArray(json.manifests) ? json.manifests : [];
    return {
      kind: 'index',
      mediaType: mediaType || MEDIA_TYPES.ociIndex,
      manifests: list.map((m, i) => descriptor(m, `${what} manifests[${i}]`)),
    };
  }
  const layers = Array.isArray(json.layers) ? json.layers : [];
  return {
    kind: 'image',
    mediaType: mediaType || MEDIA_TYPES.ociManifest,
    config: descriptor(json.config, `${what} config`),
    layers: layers.map((l, i) => descriptor(l, `${what} layers[${i}]`)),
  };
}

/** An index's real platforms: entries without a platform and `unknown/unknown` attestations left out. */
export function indexPlatforms(
  manifests: readonly Descriptor[],
): { platform: Platform; digest: string }[] {
  return manifests.flatMap((m) =>
    m.platform && m.platform.os !== 'unknown' ? [{ platform: m.platform, digest: m.digest }] : [],
  );
}

/** The entry whose config gives an index's labels: linux/amd64, else the first platform. */
export function preferredEntry(manifests: readonly Descriptor[]): string | undefined {
  const entries = indexPlatforms(manifests);
  const amd64 = entries.find(
    (e) => e.platform.os === 'linux' && e.platform.architecture === 'amd64',
  );
  return (amd64 ?? entries[0])?.digest ?? manifests[0]?.digest;
}

export interface ImageConfig {
  platform?: Platform;
  labels: Record<string, string>;
  created?: string;
}

/** Platform, labels and creation time of an image config blob. */
export function parseImageConfig(body: string, what: string): ImageConfig {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (error) {
    throw new RegistryError(`${what} is not JSON`, false, { cause: error });
  }
  if (!isRecord(json)) throw new RegistryError(`${what} is not a JSON object`, false);
  const config = isRecord(json.config) ? json.config : {};
  const rawLabels = isRecord(config.Labels) ? config.Labels : {};
  const result: ImageConfig = {
    labels: Object.fromEntries(
      Object.entries(rawLabels).filter((e): e is [string, string] => typeof e[1] === 'string'),
    ),
  };
  if (typeof json.created === 'string') result.created = json.created;
  if (typeof json.os === 'string' && typeof json.architecture === 'string') {
    result.platform = { os: json.os, architecture: json.architecture };
    if (typeof json.variant === 'string') result.platform.variant = json.variant;
  }
  return result;
}
