import type { ChildProcess } from 'node:child_process';
import {
  chromium,
  type Browser,
  type BrowserContext,
  type Locator,
  type Page,
} from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  containerVersion,
  deployment,
  namespace,
  startCvmStack,
  type CvmStack,
} from '../support/cvm-stack.js';
import { startCvmProcess, type CvmProcess } from '../support/cvm-process.js';
import { chromiumPath, describeMissing } from '../support/prerequisites.js';
import { waitFor } from '../support/wait-for.js';

const OPS_TOKEN = 'dashboard-ops-token-0123456789';
const ADMIN_TOKEN = 'dashboard-admin-token-0123456789';
/** Where `DASHBOARD_SCREENSHOT=1` writes the README's screenshot (1280x800). */
const SCREENSHOT = new URL('../../docs/dashboard.png', import.meta.url);

const missing = inject('missingPrerequisites').filter((p) => p.key === 'chromium');

let stack: CvmStack;
let worker: CvmProcess;
const processes: ChildProcess[] = [];
let browser: Browser;
let base: string;

beforeAll(async () => {
  if (missing.length > 0) return;
  // The stack's receiver and registry; the workers and the ops port are a real `cvm worker`.
  stack = await startCvmStack({ workers: false });
  worker = await startCvmProcess(
    'worker',
    { ...stack.env, CVM_OPS_TOKEN: OPS_TOKEN, CVM_ADMIN_TOKEN: ADMIN_TOKEN, CVM_LOG_LEVEL: 'info' },
    processes,
  );
  const port = /"opsPort":(\d+)/.exec(worker.output())?.[1];
  base = `http://127.0.0.1:${port}`;
  browser = await chromium.launch({
    executablePath: chromiumPath(),
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-sync'],
  });
}, 90_000);

afterAll(async () => {
  await browser?.close();
  for (const p of processes) p.kill('SIGTERM');
  await stack?.stop();
});

const imageOf = (d: any) =>
  d.spec.template.spec.containers.find((c: any) => c.name === 'api').image;

/** A context that reaches only the ops server. */
async function context(
  options: Parameters<Browser['newContext']>[0] = {},
): Promise<BrowserContext> {
  const ctx = await browser.newContext(options);
  await ctx.route(/^https?:\/\/(?!127\.0\.0\.1[:/])/, (route) => route.abort());
  return ctx;
}

const row = (page: Page) => page.locator('tr[data-workload="dash/Deployment/api"]');
/** The text of `locator` now, or null while it is not there: each poll attempt is bounded. */
const text = (locator: Locator) => locator.textContent({ timeout: 1_000 }).catch(() => null);
/** Polls of the page: generous, since the machine's CPU is shared. */
const POLL = { timeout: 20_000, interval: 100 };

describe('the dashboard in a browser (Chromium) on a real stack', () => {
  it('logs in, shows a push rolled out, follows the next one live, and rolls back with the button', async () => {
    if (missing.length > 0) throw new Error(describeMissing(missing));
    await stack.apply([
      namespace('dash'),
      deployment('dash', 'api', 'example.com/old/api:0', { replicas: 2 }),
      containerVersion('dash', 'api', {
        imageRepo: stack.repo,
        tag: 'prod',
        versionPattern: '^[0-9]+\\.[0-9]+\\.[0-9]+$',
        selector: { app: 'api' },
        container: 'api',
        pollIntervalSeconds: 0,
      }),
    ]);
    const first = stack.push(['1.0.0', 'prod']);
    await stack.rolloutOf('dash', 'api', first);

    const ctx = await context({ viewport: { width: 1280, height: 800 } });
    try {
      const page = await ctx.newPage();
      const failed: string[] = [];
      page.on('response', (r) => {
        if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`);
      });
      // Not logged in: the page sends the browser to the login form.
      await page.goto(`${base}/`);
      expect(new URL(page.url()).pathname).toBe('/login');
      await page.fill('#token', ADMIN_TOKEN);
      await Promise.all([page.waitForURL(`${base}/`), page.click('button[type=submit]')]);
      const cookies = await ctx.cookies();
      expect(cookies.find((c) => c.name === 'cvm_session')).toMatchObject({
        httpOnly: true,
        sameSite: 'Strict',
      });

      // The workloads table shows the version the push rolled out.
      await expect.poll(() => text(row(page).locator('.version')), POLL).toBe('1.0.0');
      await expect.poll(() => text(row(page).locator('.badge').first()), POLL).toBe('Ready');
      await page.locator('#live.on').waitFor({ timeout: 10_000 });
      await page.locator('[data-queue="rollouts"]').waitFor();

      // A second push moves to Ready on the page, without a reload.
      let loads = 0;
      page.on('load', () => loads++);
      await page.evaluate(() => ((globalThis as any).cvmSamePage = true));
      const second = stack.push(['2.0.0', 'prod']);
      await expect
        .poll(() => text(row(page).locator('.version')), { ...POLL, timeout: 30_000 })
        .toBe('2.0.0');
      await expect
        .poll(() => text(row(page).locator('.badge').first()), { ...POLL, timeout: 30_000 })
        .toBe('Ready');
      expect(await page.evaluate(() => (globalThis as any).cvmSamePage)).toBe(true);
      expect(loads).toBe(0);
      expect((await stack.containerVersion('dash', 'api')).status.currentDigest).toBe(second);
      if (process.env.DASHBOARD_SCREENSHOT) await page.screenshot({ path: SCREENSHOT.pathname });

      // The detail view: history with a Rollback button on the good entry that is not current.
      await row(page).locator('a[href="#/cv/dash/api"]').click();
      await page.locator('#history tr.history-row').nth(1).waitFor();
      const history = page.locator('#history tr.history-row');
      expect(await history.count()).toBe(2);
      expect(await history.nth(0).locator('button[data-action="rollback"]').count()).toBe(0);
      page.once('dialog', (dialog) => void dialog.accept());
      await history.nth(1).locator('button[data-action="rollback"]').click();
      await page.locator('.flash:not(.error)').waitFor();

      // The rollback reaches the Deployment, and the page follows it live.
      const rolledBack = await waitFor(
        async () => {
          const image = imageOf(await stack.deployment('dash', 'api'));
          return image.endsWith(`@${first}`) ? image : undefined;
        },
        'the Deployment back at 1.0.0',
        { timeoutMs: 30_000, intervalMs: 250 },
      );
      expect(rolledBack).toBe(`${stack.repo}:1.0.0@${first}`);
      await expect.poll(() => text(page.locator('#current-version')), POLL).toBe('1.0.0');
      await expect
        .poll(() => page.locator('#failed-digests li').allTextContents(), POLL)
        .toContain(second);
      expect(failed).toEqual([]);

      // Readable on a phone: the same session, 390 px wide, nothing wider than the screen.
      const phone = await context({
        viewport: { width: 390, height: 844 },
        storageState: await ctx.storageState(),
      });
      try {
        const small = await phone.newPage();
        await small.goto(`${base}/`);
        await expect.poll(() => text(row(small).locator('.version')), POLL).toBe('1.0.0');
        expect(await row(small).locator('.version').isVisible()).toBe(true);
        const width = () =>
          small.evaluate(() => (globalThis as any).document.documentElement.scrollWidth as number);
        expect(await width()).toBeLessThanOrEqual(390);
        await small.goto(`${base}/#/cv/dash/api`);
        await small.locator('#history tr.history-row').first().waitFor();
        expect(await width()).toBeLessThanOrEqual(390);
      } finally {
        await phone.close();
      }
    } finally {
      await ctx.close();
    }
  }, 120_000);

  it('shows an ops-role session the actions disabled, and the API refuses them (403)', async () => {
    if (missing.length > 0) throw new Error(describeMissing(missing));
    const ctx = await context();
    try {
      const page = await ctx.newPage();
      await page.goto(`${base}/login?next=${encodeURIComponent('/#/cv/dash/api')}`);
      await page.fill('#token', OPS_TOKEN);
      await page.click('button[type=submit]');
      const sync = page.locator('#status button[data-action="sync"]');
      await sync.waitFor();
      expect(await sync.isDisabled()).toBe(true);
      const status = await page.evaluate(async () => {
        const csrf: string = (globalThis as any).document
          .querySelector('meta[name="cvm-csrf"]')
          .getAttribute('content');
        const r = await fetch('/api/v1/containerversions/dash/api/sync', {
          method: 'POST',
          headers: { 'x-cvm-csrf': csrf, 'content-type': 'application/json' },
          body: '{}',
        });
        return r.status;
      });
      expect(status).toBe(403);
    } finally {
      await ctx.close();
    }
  }, 30_000);
});
