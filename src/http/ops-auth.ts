import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { matchesAnySecret } from '../receiver/authenticators.js';

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

/**
 * The role an `Authorization` header proves (see {@link offeredOpsToken}), or undefined. Both
 * tokens are compared in constant time, whichever matches.
 */
export function opsRoleOf(
  authorization: string | undefined,
  tokens: OpsTokens,
): OpsRole | undefined {
  const offered = offeredOpsToken(authorization);
  const admin = tokens.adminToken ? matchesAnySecret(offered, [tokens.adminToken]) : false;
  const ops = tokens.opsToken ? matchesAnySecret(offered, [tokens.opsToken]) : false;
  return admin ? 'admin' : ops ? 'ops' : undefined;
}

/** The role {@link opsAuth} found, for the handlers after it. */
export const opsRoleOfResponse = (response: Response): OpsRole | undefined =>
  (response.locals as { opsRole?: OpsRole }).opsRole;

/**
 * Middleware guarding the ops port's protected routes (`/metrics`, `/admin/queues`, `/api/v1`).
 *
 * - A token set: the request passes when it offers the ops or the admin token (see
 *   {@link offeredOpsToken}), compared in constant time, and `response.locals.opsRole` says which
 *   ({@link opsRoleOfResponse}); otherwise 401 with `WWW-Authenticate: Basic realm="cvm"` so that a
 *   browser prompts for it. Which routes need the admin role is for the routes to say.
 * - Neither set (`CVM_OPS_TOKEN` and `CVM_ADMIN_TOKEN` unset): every request answers 404, the
 *   routes are disabled; they are never open without credentials.
 */
export function opsAuth(tokens: OpsTokens): RequestHandler {
  if (!tokens.opsToken && !tokens.adminToken) {
    return (_request: Request, response: Response) => {
      response.status(404).json({
        error: 'disabled',
        message: 'this route needs CVM_OPS_TOKEN, which is not set',
      });
    };
  }
  return (request: Request, response: Response, next: NextFunction) => {
    const role = opsRoleOf(request.headers.authorization, tokens);
    if (role) {
      (response.locals as { opsRole?: OpsRole }).opsRole = role;
      next();
      return;
    }
    response
      .status(401)
      .set('www-authenticate', `Basic realm="${OPS_REALM}", charset="UTF-8"`)
      .json({
        error: 'unauthorized',
        message: 'send the ops token as a bearer token, or as the basic-auth password',
      });
  };
}
