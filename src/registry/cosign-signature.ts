import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import type { SignatureCheck } from './registry-client.js';

/** Layer media type of a cosign key-based ("simple signing") signature. */
export const SIMPLE_SIGNING_MEDIA_TYPE = 'application/vnd.dev.cosign.simplesigning.v1+json';
/** Layer annotation holding the base64 signature over the layer blob. */
export const SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature';

/** Tag under which cosign stores the signatures of `digest`: `sha256-<hex>.sig`. */
export const signatureTag = (digest: string) => `${digest.replace(':', '-')}.sig`;

/** The PEM public key, or the reason it cannot be one. */
export function parsePublicKey(pem: string): KeyObject | string {
  try {
    const key = createPublicKey(pem);
    const type = key.asymmetricKeyType;
    if (type !== 'ec' && type !== 'rsa')
      return `public key type ${type ?? 'unknown'} is not ECDSA or RSA`;
    return key;
  } catch (error) {
    return `public key is not a PEM public key: ${error instanceof Error ? error.message : String(error)}`;
  }
}

/** `critical.image.docker-manifest-digest` of a simple-signing payload (key compared case-insensitively). */
function signedDigest(payload: Buffer): string | undefined {
  let json: unknown;
  try {
    json = JSON.parse(payload.toString('utf8'));
  } catch {
    return undefined;
  }
  const critical = (json as { critical?: { image?: Record<string, unknown> } } | null)?.critical;
  const image = critical?.image ?? {};
  const entry = Object.entries(image).find(([k]) => k.toLowerCase() === 'docker-manifest-digest');
  return typeof entry?.[1] === 'string' ? entry[1] : undefined;
}

/**
 * Checks one cosign signature: `signatureBase64` must verify over the exact payload bytes with
 * `key` (SHA-256; ECDSA signatures DER-encoded as cosign writes them, RSA PKCS#1 v1.5), and the
 * payload must name `digest`. Pure apart from the crypto.
 */
export function checkSimpleSigning(
  payload: Buffer,
  signatureBase64: string,
  digest: string,
  key: KeyObject,
): SignatureCheck {
  const signature = Buffer.from(signatureBase64, 'base64');
  let valid = false;
  try {
    valid = signature.length > 0 && verify('sha256', payload, key, signature);
  } catch {
    valid = false;
  }
  if (!valid)
    return { verified: false, reason: 'signature does not verify with the configured public key' };
  const named = signedDigest(payload);
  if (named !== digest) {
    return {
      verified: false,
      reason: `signed payload names ${named ?? 'no digest'}, not ${digest}`,
    };
  }
  return { verified: true };
}
