import { quoteText, type JsonField } from './json-field.js';

/**
 * Manifest digests as PushEvents carry them: `sha256:` and 64 lowercase hex characters. Every
 * registry cvm supports addresses manifests by SHA-256; a sha384/sha512 digest in an event would
 * be a format cvm does not know, so it is rejected rather than passed on.
 */
const SHA256_DIGEST = /^sha256:[a-f0-9]{64}$/;

export function isSha256Digest(text: string): boolean {
  return SHA256_DIGEST.test(text);
}

/** The digest in `field`. @throws {MalformedEventError} when it is missing or not `sha256:<64 hex>`. */
export function sha256Digest(field: JsonField): string {
  const text = field.string();
  if (!isSha256Digest(text)) {
    field.fail(`expected a digest sha256:<64 lowercase hex characters>, got ${quoteText(text)}`);
  }
  return text;
}

/** Like {@link sha256Digest}, but `undefined` when the field is absent or empty. */
export function optionalSha256Digest(field: JsonField): string | undefined {
  if (field.isAbsent || field.value === '') return undefined;
  return sha256Digest(field);
}
