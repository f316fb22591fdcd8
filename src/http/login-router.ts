import express, { type Request, type Response } from 'express';
import { loginPage } from './dashboard-pages.js';
import { LOGIN_PATH, isSameOrigin, roleOfToken, type OpsTokens } from './ops-auth.js';
import { sessionSetCookie, signSession } from './session-cookie.js';

export interface LoginRouterOptions extends OpsTokens {
  /** Lifetime of a session, seconds (`CVM_OPS_SESSION_SECONDS`). */
  sessionSeconds: number;
  /** Clock of the session expiry; default `() => new Date()`. */
  now?: () => Date;
}

/** `next` when it is a path on this server (no scheme, no `//host`), else `/`: no open redirect. */
export function safeNext(next: unknown): string {
  if (typeof next !== 'string' || !next.startsWith('/') || next.startsWith('//')) return '/';
  if (next.includes('\\') || [...next].some((c) => c.charCodeAt(0) < 0x20)) return '/';
  return next;
}

/** True when the browser reached this server over https, itself or through a proxy that says so. */
export function cameOverHttps(request: Request): boolean {
  const forwarded = request.get('x-forwarded-proto')?.split(',')[0]?.trim().toLowerCase();
  return request.protocol === 'https' || forwarded === 'https';
}

const field = (body: unknown, name: string): unknown =>
  typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[name] : undefined;

/**
 * `GET /login` (the form), `POST /login` (a form or JSON `{ token, next? }`: on the ops or admin
 * token, sets the session cookie and redirects to `next`, or answers JSON `{ role, expiresAt }`;
 * 400 naming `token` when it is missing, 401 when it is no token) and `POST /logout` (clears the
 * cookie, back to the form; 403 from a page of another origin). Open routes: the form is how a browser gets credentials.
 */
export function createLoginRouter(options: LoginRouterOptions): express.Router {
  const now = options.now ?? (() => new Date());
  const router = express.Router();
  const bodies = [
    express.urlencoded({ extended: false, limit: '4kb' }),
    express.json({ limit: '4kb' }),
  ];
  router.get(LOGIN_PATH, (request: Request, response: Response) => {
    response
      .type('html')
      .set('cache-control', 'no-store')
      .send(loginPage({ next: safeNext(request.query.next) }));
  });
  router.post(LOGIN_PATH, ...bodies, (request: Request, response: Response) => {
    const wantsJson = request.is('application/json') === 'application/json';
    const token = field(request.body, 'token');
    const next = safeNext(field(request.body, 'next'));
    if (typeof token !== 'string' || token === '') {
      if (wantsJson)
        return void response
          .status(400)
          .json({ error: 'bad request', message: 'token: required, a non-empty string' });
      return void response
        .status(400)
        .type('html')
        .send(loginPage({ next, error: 'Enter a token.' }));
    }
    const role = roleOfToken(token, options);
    if (!role) {
      if (wantsJson)
        return void response
          .status(401)
          .json({ error: 'unauthorized', message: 'token: neither the ops nor the admin token' });
      return void response
        .status(401)
        .type('html')
        .send(loginPage({ next, error: 'That is neither the ops nor the admin token.' }));
    }
    const expiresAt = new Date(now().getTime() + options.sessionSeconds * 1000);
    const value = signSession(role, expiresAt, options);
    response.set(
      'set-cookie',
      sessionSetCookie(value, {
        maxAgeSeconds: options.sessionSeconds,
        secure: cameOverHttps(request),
      }),
    );
    if (wantsJson) return void response.json({ role, expiresAt: expiresAt.toISOString() });
    response.redirect(303, next);
  });
  router.post('/logout', (request: Request, response: Response) => {
    // A page of another site must not log people out: browsers send Origin with every form POST.
    if (request.headers.origin !== undefined && !isSameOrigin(request))
      return void response
        .status(403)
        .json({ error: 'csrf', message: 'log out from a page of this origin' });
    response
      .set('set-cookie', sessionSetCookie('', { maxAgeSeconds: 0, secure: cameOverHttps(request) }))
      .redirect(303, LOGIN_PATH);
  });
  return router;
}
