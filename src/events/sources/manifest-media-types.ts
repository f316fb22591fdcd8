/**
 * Media types of image manifests and indexes: a push of one of these is a push of an image (or of
 * a multi-arch image's index), anything else (layers, configs, signatures' blobs) is a blob.
 */
export const MANIFEST_MEDIA_TYPES: ReadonlySet<string> = new Set([
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
]);

/** Whether `mediaType` (parameters and case ignored) is a manifest or index media type. */
export function isManifestMediaType(mediaType: string): boolean {
  const essence = mediaType.split(';', 1)[0] ?? '';
  return MANIFEST_MEDIA_TYPES.has(essence.trim().toLowerCase());
}
