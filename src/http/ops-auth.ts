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

/**
 * Middleware guarding the ops port's protected routes (`/metrics`, `/admin/queues`, `/api/v1`).
 *
 * - `token` set: the request passes when it offers the token (see {@link offeredOpsToken}),
 *   compared in constant time; otherwise 401 with `WWW-Authenticate: Basic realm="cvm"` so that a
 *   browser prompts for it.
 * - `token` undefined or empty (`CVM_OPS_TOKEN` unset): every request answers 404, the routes are disabled;
 *   they are never open without credentials.
 */
export function opsAuth(token: string | undefined): RequestHandler {
  if (!token) {
    return (_request: Request, response: Response) => {
      response.status(404).json({
        error: 'disabled',
        message: 'this route needs CVM_OPS_TOKEN, which is not set',
      });
    };
  }
  const secrets = [token];
  return (request: Request, response: Response, next: NextFunction) => {
    if (matchesAnySecret(offeredOpsToken(request.headers.authorization), secrets)) {
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
