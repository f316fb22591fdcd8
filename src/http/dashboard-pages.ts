import type { OpsRole } from './ops-auth.js';

/** Where the ops port serves the dashboard's script and styles (open: they hold no data). */
export const ASSETS_PATH = '/ui';

/** `text` with `& < > " '` escaped, for HTML text and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );
}

const head = (title: string) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="${ASSETS_PATH}/dashboard.css">
</head>`;

/** The login form: one token field, posted to `/login` with the page to return to. */
export function loginPage(options: { next: string; error?: string }): string {
  const error = options.error
    ? `<p class="error" role="alert">${escapeHtml(options.error)}</p>`
    : '';
  return `${head('cvm: log in')}
<body class="login">
<main>
<h1>cvm</h1>
<form method="post" action="/login">
${error}
<label for="token">Ops or admin token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<input type="hidden" name="next" value="${escapeHtml(options.next)}">
<button type="submit">Log in</button>
</form>
<p class="hint">The value of <code>CVM_OPS_TOKEN</code> (reads) or <code>CVM_ADMIN_TOKEN</code> (also acts).</p>
</main>
</body>
</html>
`;
}

/**
 * The dashboard's shell: header, the role, the session's CSRF value (read by the script, sent as
 * `X-Cvm-Csrf` with every action) and the containers the script fills from the REST API.
 */
export function dashboardPage(options: { role: OpsRole; csrf: string | undefined }): string {
  const csrf = options.csrf ? `<meta name="cvm-csrf" content="${escapeHtml(options.csrf)}">` : '';
  return `${head('cvm dashboard').replace('</head>', `<meta name="cvm-role" content="${options.role}">\n${csrf}\n</head>`)}
<body>
<header>
<a class="brand" href="#/">cvm</a>
<span id="live" class="live" title="live updates">connecting…</span>
<nav>
<a href="/admin/queues/">queue board</a>
<form method="post" action="/logout"><button type="submit" class="link">log out</button></form>
</nav>
</header>
<main id="app"><p>Loading…</p></main>
<noscript>The dashboard needs JavaScript; the REST API is at /api/v1.</noscript>
<script src="${ASSETS_PATH}/dashboard.js" defer></script>
</body>
</html>
`;
}
