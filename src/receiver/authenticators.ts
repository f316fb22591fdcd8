import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** What an authenticator may look at. Header names are lower case. */
export interface AuthRequest {
  headers: Readonly<Record<string, string | undefined>>;
  /** The secret path segment (`/webhooks/dockerhub/:token`), when the route has one. */
  pathToken: string | undefined;
  rawBody: Buffer;
}

/**
 * What an authenticator decided: `true` (proven), `false` (no or a wrong secret: 401), a refusal
 * whose reason the 401 states (an OIDC token that is expired, for another audience, …), or
 * `unavailable` when the proof could not be checked now (the issuer's keys could not be fetched:
 * 503, the sender retries).
 */
export type AuthResult = boolean | { refused: string } | { unavailable: string };

/** Whether the request proves it is from the configured sender. */
export type Authenticator = (request: AuthRequest) => AuthResult | Promise<AuthResult>;

const digest = (value: string | Buffer) => createHash('sha256').update(value).digest();

/**
 * Constant-time equality of two strings of any length: both are hashed first, so neither the
 * content nor the length of the secret leaks through timing.
 */
export function secretEquals(candidate: string | Buffer, secret: string | Buffer): boolean {
  return timingSafeEqual(digest(candidate), digest(secret));
}

/**
 * Whether `candidate` equals any of `secrets` (several are allowed at once, for rotation). Every
 * secret is compared, whichever matches, so the time does not tell which one did.
 */
export function matchesAnySecret(
  candidate: string | Buffer | undefined,
  secrets: readonly string[],
): boolean {
  if (candidate === undefined) return false;
  let matched = false;
  for (const secret of secrets) matched = secretEquals(candidate, secret) || matched;
  return matched;
}

/**
 * {@link matchesAnySecret} with the secrets' digests computed once, not on every request: the same
 * comparison of digests, every secret compared whichever matches.
 */
function secretMatcher(secrets: readonly string[]): (candidate: string | undefined) => boolean {
  const digests = secrets.map(digest);
  return (candidate) => {
    if (candidate === undefined) return false;
    const given = digest(candidate);
    let matched = false;
    for (const secret of digests) matched = timingSafeEqual(given, secret) || matched;
    return matched;
  };
}

/** The secret is the path segment after the source (Docker Hub, Quay, Artifact Registry). */
export const pathTokenAuth = (secrets: readonly string[]): Authenticator => {
  const matches = secretMatcher(secrets);
  return (request) => matches(request.pathToken);
};

/** The secret is the whole value of a header (EventBridge API destination API key). */
export const headerSecretAuth = (header: string, secrets: readonly string[]): Authenticator => {
  const matches = secretMatcher(secrets);
  const name = header.toLowerCase();
  return (request) => matches(request.headers[name]);
};

/**
 * The `Authorization` header is `Bearer <secret>` or the bare secret (Harbor sends its "Auth
 * Header" verbatim; Distribution and ACR send what their config says).
 */
export const authorizationAuth = (secrets: readonly string[]): Authenticator => {
  const matches = secretMatcher(secrets);
  return (request) => {
    const value = request.headers.authorization;
    if (value === undefined) return false;
    const token = /^bearer\s+/i.test(value) ? value.replace(/^bearer\s+/i, '') : value;
    return matches(token);
  };
};

const HEX_SHA256 = /^[0-9a-f]{64}$/i;

/**
 * `<header>: sha256=<hex HMAC-SHA256(secret, raw body)>`, as GitHub signs (`X-Hub-Signature-256`).
 * The HMAC is computed over the exact bytes received, never over re-serialized JSON. The 32 bytes
 * of the signature are compared with each secret's HMAC in constant time (their length is no
 * secret), every secret whichever matches; hex digits of either case are accepted.
 */
export const hmacSha256Auth = (header: string, secrets: readonly string[]): Authenticator => {
  const name = header.toLowerCase();
  return (request) => {
    const signature = request.headers[name];
    if (signature === undefined || !signature.startsWith('sha256=')) return false;
    const hex = signature.slice('sha256='.length);
    if (!HEX_SHA256.test(hex)) return false;
    const given = Buffer.from(hex, 'hex');
    let matched = false;
    for (const secret of secrets) {
      const expected = createHmac('sha256', secret).update(request.rawBody).digest();
      matched = timingSafeEqual(given, expected) || matched;
    }
    return matched;
  };
};
