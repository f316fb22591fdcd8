import { readFileSync } from 'node:fs';
import express, { type Request, type RequestHandler, type Response } from 'express';
import { ASSETS_PATH, dashboardPage } from './dashboard-pages.js';
import { opsCredentialOfResponse, opsRoleOfResponse, type OpsTokens } from './ops-auth.js';
import { csrfTokenOf } from './session-cookie.js';

/** The dashboard's files, shipped in the package's `web/` folder (no build step, no CDN). */
const ASSETS: Record<string, { file: string; type: string }> = {
  'dashboard.js': { file: 'dashboard.js', type: 'text/javascript; charset=utf-8' },
  'dashboard.css': { file: 'dashboard.css', type: 'text/css; charset=utf-8' },
};

/** `web/` of the package: two levels up from `src/http` and from `dist/http` alike. */
const WEB_DIR = new URL('../../web/', import.meta.url);

export interface DashboardRouterOptions {
  /** `opsAuth` with `loginRedirect`: a browser without credentials goes to the login form. */
  auth: RequestHandler;
  tokens: OpsTokens;
}

/**
 * The dashboard: `GET /` (the page, behind `auth`; it carries the role and, for a session, its
 * CSRF value) and `GET /ui/<file>` (its script and styles, open: the login form uses them and they
 * hold no data). The script reads everything it shows from the REST API and `/api/v1/stream`.
 * Throws at creation when a file of `web/` is missing.
 */
export function createDashboardRouter(options: DashboardRouterOptions): express.Router {
  const files = new Map(
    Object.entries(ASSETS).map(([name, asset]) => [
      name,
      { type: asset.type, body: readFileSync(new URL(asset.file, WEB_DIR), 'utf8') },
    ]),
  );
  const router = express.Router();
  router.get(`${ASSETS_PATH}/:file`, (request: Request, response: Response, next) => {
    const asset = files.get(String(request.params.file));
    if (!asset) return next();
    response.type(asset.type).set('cache-control', 'no-cache').send(asset.body);
  });
  router.get('/', options.auth, (_request: Request, response: Response) => {
    const credential = opsCredentialOfResponse(response);
    const role = opsRoleOfResponse(response) ?? 'ops';
    const csrf =
      credential?.kind === 'session'
        ? csrfTokenOf(credential.cookie, role, options.tokens)
        : undefined;
    response
      .type('html')
      .set({
        'cache-control': 'no-store',
        'content-security-policy':
          "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
        'x-content-type-options': 'nosniff',
      })
      .send(dashboardPage({ role, csrf }));
  });
  return router;
}
