import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { matchesAnySecret } from '../receiver/authenticators.js';
import {
  CSRF_HEADER,
  SESSION_COOKIE,
  cookieValue,
  csrfMatches,
  verifySession,
} from './session-cookie.js';

/** The realm browsers show in their credentials prompt. */
export const OPS_REALM = 'cvm';

/**
 * The token an `Authorization` header offers: `Bearer <token>` (APIs, Prometheus scrapers), or
 * HTTP Basic with any user name and the token as password (browsers, whose requests for the queue
 * board's scripts and styles cannot carry a bearer header). Undefined for any other header.
 */
export function offeredOpsToken(authorization: string | undefined): string | undefined {
  if (authorization === undefined) return undefined;
  const parts = authorization.trim().split(/[ \t]+/);
  if (parts.length !== 2) return undefined;
  const [scheme = '', value = ''] = parts;
  if (/^bearer$/i.test(scheme)) return value;
  if (!/^basic$/i.test(scheme)) return undefined;
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon === -1 ? undefined : decoded.slice(colon + 1);
}

/** What a credential on the ops port allows: `ops` reads, `admin` also acts on the queue board. */
export type OpsRole = 'ops' | 'admin';

/** The tokens of the ops port: `CVM_OPS_TOKEN` and `CVM_ADMIN_TOKEN`. */
export interface OpsTokens {
  opsToken?: string | undefined;
  adminToken?: string | undefined;
}

/** The role a token is (both tokens compared in constant time, whichever matches), or undefined. */
export function roleOfToken(offered: string | undefined, tokens: OpsTokens): OpsRole | undefined {
  const admin = tokens.adminToken ? matchesAnySecret(offered, [tokens.adminToken]) : false;
  const ops = tokens.opsToken ? matchesAnySecret(offered, [tokens.opsToken]) : false;
  return admin ? 'admin' : ops ? 'ops' : undefined;
}

/** The role an `Authorization` header proves (see {@link offeredOpsToken}), or undefined. */
export function opsRoleOf(
  authorization: string | undefined,
  tokens: OpsTokens,
): OpsRole | undefined {
  return roleOfToken(offeredOpsToken(authorization), tokens);
}

/** How a request proved its role: a token in `Authorization`, or a session cookie. */
export type OpsCredential = { kind: 'token' } | { kind: 'session'; cookie: string };

interface OpsLocals {
  opsRole?: OpsRole;
  opsCredential?: OpsCredential;
}

/** The role {@link opsAuth} found, for the handlers after it. */
export const opsRoleOfResponse = (response: Response): OpsRole | undefined =>
  (response.locals as OpsLocals).opsRole;

/** The credential {@link opsAuth} accepted, for the handlers after it (the page's CSRF value). */
export const opsCredentialOfResponse = (response: Response): OpsCredential | undefined =>
  (response.locals as OpsLocals).opsCredential;

/** Where the ops port's login form is. */
export const LOGIN_PATH = '/login';

export interface OpsAuthOptions extends OpsTokens {
  /**
   * A browser's page request (GET or HEAD accepting `text/html`) without any credential is
   * redirected (303) to {@link LOGIN_PATH} instead of answered 401. Default false: the queue board
   * keeps its Basic challenge, which browsers answer with a prompt.
   */
  loginRedirect?: boolean;
  /** Clock of the session expiry; default `() => new Date()`. */
  now?: () => Date;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * True when a browser says the request comes from a page of this origin: `Sec-Fetch-Site:
 * same-origin`, or an `Origin` whose host is the request's `Host` (or `X-Forwarded-Host`).
 */
export function isSameOrigin(request: Request): boolean {
  if (request.headers['sec-fetch-site'] === 'same-origin') return true;
  const origin = request.headers.origin;
  if (origin === undefined || origin === 'null') return false;
  const forwarded = request.headers['x-forwarded-host'];
  const host =
    (typeof forwarded === 'string' ? forwarded.split(',')[0]?.trim() : undefined) ??
    request.headers.host;
  try {
    return host !== undefined && new URL(origin).host === host.toLowerCase();
  } catch {
    return false;
  }
}

/**
 * Middleware guarding the ops port's protected routes (`/`, `/metrics`, `/admin/queues`, `/api/v1`).
 *
 * - A token set: the request passes when it offers the ops or the admin token (see
 *   {@link offeredOpsToken}), compared in constant time, or a valid session cookie
 *   ({@link SESSION_COOKIE}, from the login form; {@link verifySession}); `response.locals` says
 *   which role ({@link opsRoleOfResponse}) and credential. Which routes need the admin role is for
 *   the routes to say.
 * - A session on an action (any method but GET, HEAD, OPTIONS) must also carry {@link CSRF_HEADER}
 *   equal to the session's {@link csrfTokenOf}, or come from a page of this origin
 *   ({@link isSameOrigin}: the queue board's own scripts); else 403 `csrf`. Token clients are
 *   unaffected.
 * - Without a credential: 401 with `WWW-Authenticate: Basic realm="cvm"` so that a browser
 *   prompts (or, with `loginRedirect`, a page request is sent to the login form).
 * - Neither token set (`CVM_OPS_TOKEN` and `CVM_ADMIN_TOKEN` unset): every request answers 404, the
 *   routes are disabled; they are never open without credentials.
 */
export function opsAuth(options: OpsAuthOptions): RequestHandler {
  const tokens: OpsTokens = { opsToken: options.opsToken, adminToken: options.adminToken };
  const now = options.now ?? (() => new Date());
  if (!tokens.opsToken && !tokens.adminToken) {
    return (_request: Request, response: Response) => {
      response.status(404).json({
        error: 'disabled',
        message: 'this route needs CVM_OPS_TOKEN, which is not set',
      });
    };
  }
  return (request: Request, response: Response, next: NextFunction) => {
    const locals = response.locals as OpsLocals;
    const role = opsRoleOf(request.headers.authorization, tokens);
    if (role) {
      locals.opsRole = role;
      locals.opsCredential = { kind: 'token' };
      return next();
    }
    const cookie = cookieValue(request.headers.cookie, SESSION_COOKIE);
    const verified = cookie === undefined ? undefined : verifySession(cookie, tokens, now());
    if (cookie !== undefined && verified && 'session' in verified) {
      const sessionRole = verified.session.role;
      if (
        !SAFE_METHODS.has(request.method) &&
        !csrfMatches(request.get(CSRF_HEADER), cookie, sessionRole, tokens) &&
        !isSameOrigin(request)
      ) {
        return void response.status(403).json({
          error: 'csrf',
          message: `an action with a session cookie needs the ${CSRF_HEADER} header of the page, or must come from this origin`,
        });
      }
      locals.opsRole = sessionRole;
      locals.opsCredential = { kind: 'session', cookie };
      return next();
    }
    const page = request.method === 'GET' || request.method === 'HEAD';
    if (
      options.loginRedirect &&
      page &&
      request.headers.authorization === undefined &&
      request.accepts(['json', 'html']) === 'html'
    ) {
      return void response.redirect(
        303,
        `${LOGIN_PATH}?next=${encodeURIComponent(request.originalUrl)}`,
      );
    }
    response
      .status(401)
      .set('www-authenticate', `Basic realm="${OPS_REALM}", charset="UTF-8"`)
      .json({
        error: 'unauthorized',
        message:
          cookie !== undefined && verified && 'refused' in verified
            ? `the session cookie is ${verified.refused === 'expired' ? 'expired' : 'not valid'}: log in again at ${LOGIN_PATH}`
            : `send the ops token as a bearer token or as the basic-auth password, or log in at ${LOGIN_PATH}`,
      });
  };
}
