import { createHmac, timingSafeEqual } from 'node:crypto';
import type { OpsRole, OpsTokens } from './ops-auth.js';

/** Name of the ops port's session cookie. */
export const SESSION_COOKIE = 'cvm_session';

/** Header a cookie-authenticated action carries: {@link csrfTokenOf} of its session. */
export const CSRF_HEADER = 'x-cvm-csrf';

const VERSION = 'v1';

/** The HMAC key of a role's sessions: the role's token, so rotating the token ends its sessions. */
function keyOf(role: OpsRole, tokens: OpsTokens): string | undefined {
  return role === 'admin' ? tokens.adminToken : tokens.opsToken;
}

const mac = (key: string, purpose: string, payload: string) =>
  createHmac('sha256', key).update(`${purpose}\n${payload}`).digest('base64url');

/**
 * A session cookie value for `role`, valid until `expiresAt`: `v1.<role>.<expiry seconds>.<mac>`,
 * the MAC an HMAC-SHA256 keyed with the role's token. Nothing is stored on the server; a session
 * ends when it expires or the token changes. Throws when the role's token is not set.
 */
export function signSession(role: OpsRole, expiresAt: Date, tokens: OpsTokens): string {
  const key = keyOf(role, tokens);
  if (!key) throw new Error(`no token is set for the ${role} role`);
  const payload = `${VERSION}.${role}.${Math.floor(expiresAt.getTime() / 1000)}`;
  return `${payload}.${mac(key, 'session', payload)}`;
}

/** What a session cookie proves. */
export interface Session {
  role: OpsRole;
  expiresAt: Date;
}

/** Why {@link verifySession} refused a value. */
export type SessionRefusal = 'malformed' | 'unknown-role' | 'bad-signature' | 'expired';

/**
 * The session a cookie value proves at `now`, or why not. The MAC is compared in constant time;
 * a value is expired from its expiry second on.
 */
export function verifySession(
  value: string | undefined,
  tokens: OpsTokens,
  now: Date,
): { session: Session } | { refused: SessionRefusal } {
  const parts = (value ?? '').split('.');
  if (parts.length !== 4 || parts[0] !== VERSION || !/^[0-9]{1,12}$/.test(parts[2] ?? ''))
    return { refused: 'malformed' };
  const [, role, expiry = '', offered = ''] = parts;
  if (role !== 'ops' && role !== 'admin') return { refused: 'unknown-role' };
  const key = keyOf(role, tokens);
  if (!key) return { refused: 'unknown-role' };
  const expected = Buffer.from(mac(key, 'session', `${VERSION}.${role}.${expiry}`));
  const given = Buffer.from(offered);
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return { refused: 'bad-signature' };
  const expiresAt = new Date(Number(expiry) * 1000);
  if (now.getTime() >= expiresAt.getTime()) return { refused: 'expired' };
  return { session: { role, expiresAt } };
}

/**
 * The CSRF value of a session: an HMAC of the cookie value keyed with its role's token. The page
 * gets it in a `<meta>` tag and sends it as {@link CSRF_HEADER} with every action; a cross-site
 * form can neither read it nor set the header. Undefined when the role's token is not set.
 */
export function csrfTokenOf(
  cookieValue: string,
  role: OpsRole,
  tokens: OpsTokens,
): string | undefined {
  const key = keyOf(role, tokens);
  return key ? mac(key, 'csrf', cookieValue) : undefined;
}

/** True when `offered` is the CSRF value of the session `cookieValue` (constant time). */
export function csrfMatches(
  offered: string | undefined,
  cookieValue: string,
  role: OpsRole,
  tokens: OpsTokens,
): boolean {
  const expected = csrfTokenOf(cookieValue, role, tokens);
  if (offered === undefined || expected === undefined) return false;
  const a = Buffer.from(offered);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The value of cookie `name` in a `Cookie` header, or undefined. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const pair of (header ?? '').split(';')) {
    const eq = pair.indexOf('=');
    if (eq === -1) continue;
    if (pair.slice(0, eq).trim() === name) return pair.slice(eq + 1).trim();
  }
  return undefined;
}

/** Attributes of the session cookie. */
export interface SessionCookieOptions {
  /** Seconds until the browser drops it; 0 deletes it. */
  maxAgeSeconds: number;
  /** Sent only over https: set when the request came in over https (or through a proxy that says so). */
  secure: boolean;
}

/** A `Set-Cookie` value for the session: HttpOnly, SameSite=Strict, Path=/, Secure over https. */
export function sessionSetCookie(value: string, options: SessionCookieOptions): string {
  return [
    `${SESSION_COOKIE}=${value}`,
    'Path=/',
    `Max-Age=${Math.max(0, Math.floor(options.maxAgeSeconds))}`,
    'HttpOnly',
    'SameSite=Strict',
    ...(options.secure ? ['Secure'] : []),
  ].join('; ');
}
