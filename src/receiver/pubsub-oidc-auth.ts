import { createRemoteJWKSet, errors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import type { AuthRequest, AuthResult, Authenticator } from './authenticators.js';

export interface PubSubOidcOptions {
  /** The subscription's `--push-auth-token-audience` (`CVM_GAR_OIDC_AUDIENCE`). */
  audience: string;
  /** Service accounts the token may name (`CVM_GAR_OIDC_EMAILS`); at least one. */
  emails: readonly string[];
  /** Accepted `iss` values (`CVM_GAR_OIDC_ISSUER`). Default `https://accounts.google.com`. */
  issuers?: readonly string[];
  /** The issuer's JWKS (`CVM_GAR_OIDC_JWKS_URL`). Default Google's. */
  jwksUrl?: string;
  /** Longest a JWKS fetch may take. Default 5000 ms. */
  jwksTimeoutMs?: number;
  /** Clock skew allowed on `exp`, `iat` and `nbf`. Default 30 s. */
  clockToleranceSeconds?: number;
  /** Keys to verify with instead of fetching `jwksUrl` (tests of pure logic). */
  keys?: JWTVerifyGetKey;
}

export const GOOGLE_ISSUER = 'https://accounts.google.com';
export const GOOGLE_JWKS_URL = 'https://www.googleapis.com/oauth2/v3/certs';

const refused = (reason: string): AuthResult => ({ refused: `OIDC token: ${reason}` });

/** The refusal for a token jose rejected, naming what was wrong; `unavailable` for our own failures. */
function judgeError(error: unknown): AuthResult {
  if (error instanceof errors.JWTExpired) return refused('expired (exp is in the past)');
  if (error instanceof errors.JWTClaimValidationFailed) {
    const claim = error.claim;
    if (claim === 'aud') return refused('audience (aud) is not CVM_GAR_OIDC_AUDIENCE');
    if (claim === 'iss') return refused('issuer (iss) is not CVM_GAR_OIDC_ISSUER');
    return refused(`claim ${claim}: ${error.message}`);
  }
  if (error instanceof errors.JWSSignatureVerificationFailed)
    return refused("signature does not verify with the issuer's keys");
  if (error instanceof errors.JWKSNoMatchingKey)
    return refused("signed with a key (kid) that is not among the issuer's keys");
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid)
    return { unavailable: "the issuer's keys (CVM_GAR_OIDC_JWKS_URL) could not be fetched" };
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported)
    return refused('signed with an algorithm other than RS256');
  if (error instanceof errors.JWTInvalid || error instanceof errors.JWSInvalid)
    return refused('not a valid JWT');
  // A failed fetch of the key set (connection refused, DNS) surfaces as a plain error.
  if (!(error instanceof errors.JOSEError))
    return { unavailable: "the issuer's keys (CVM_GAR_OIDC_JWKS_URL) could not be fetched" };
  return refused(error.message);
}

/**
 * Verifies the OIDC token a Pub/Sub push subscription attaches as `Authorization: Bearer <JWT>`:
 * an RS256 signature by one of the issuer's keys (its JWKS, fetched and cached by `jose`), the
 * audience, the issuer, expiry, and that `email` is one of the allowed service accounts with
 * `email_verified` true. Refusals name what was wrong; a key set that cannot be fetched is
 * `unavailable` (503), not the sender's fault.
 */
export function pubsubOidcAuth(options: PubSubOidcOptions): Authenticator {
  const keys =
    options.keys ??
    createRemoteJWKSet(new URL(options.jwksUrl ?? GOOGLE_JWKS_URL), {
      timeoutDuration: options.jwksTimeoutMs ?? 5_000,
    });
  const issuers = [...(options.issuers ?? [GOOGLE_ISSUER])];
  const emails = new Set(options.emails);
  return async (request: AuthRequest): Promise<AuthResult> => {
    const header = request.headers.authorization;
    const match = header === undefined ? null : /^bearer[ \t]+(\S+)$/i.exec(header.trim());
    if (!match?.[1]) return refused('missing: expected Authorization: Bearer <JWT>');
    let payload;
    try {
      ({ payload } = await jwtVerify(match[1], keys, {
        audience: options.audience,
        issuer: issuers,
        algorithms: ['RS256'],
        clockTolerance: options.clockToleranceSeconds ?? 30,
        requiredClaims: ['exp', 'iat'],
      }));
    } catch (error) {
      return judgeError(error);
    }
    const email = typeof payload.email === 'string' ? payload.email : undefined;
    if (email === undefined) return refused('claim email is missing');
    if (!emails.has(email))
      return refused(`email ${JSON.stringify(email)} is not in CVM_GAR_OIDC_EMAILS`);
    if (payload.email_verified !== true) return refused('email_verified is not true');
    return true;
  };
}
