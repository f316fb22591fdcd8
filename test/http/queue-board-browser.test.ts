import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createOpsApp } from '../../src/http/ops-app.js';
import { Metrics } from '../../src/observability/metrics.js';
import { chromiumPath, describeMissing } from '../support/prerequisites.js';
import { openBoardQueues, type BoardQueues } from './board-queues.js';

const TOKEN = 'browser-token-0123456789abcdef';

let queues: BoardQueues;
let server: Server;
let browser: Browser;
let boardUrl: string;

const chromiumMissing = inject('missingPrerequisites').filter((p) => p.key === 'chromium');

/** Each test fails, naming what is missing, instead of an obscure launch error or a skip. */
function requireChromium(): void {
  if (chromiumMissing.length > 0) throw new Error(describeMissing(chromiumMissing));
}

beforeAll(async () => {
  if (chromiumMissing.length > 0) return;
  queues = await openBoardQueues('board-browser');
  const app = createOpsApp({
    metrics: new Metrics({ defaultMetrics: false }),
    readiness: [],
    opsToken: TOKEN,
    queues: [queues.pushEvents.queue, queues.rollouts.queue],
  });
  server = createServer(app).listen(0, '127.0.0.1');
  await once(server, 'listening');
  boardUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/admin/queues`;
  browser = await chromium.launch({
    executablePath: chromiumPath(),
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});

afterAll(async () => {
  await browser?.close();
  server?.close();
  await queues?.close();
});

/** A browser context that reaches only the ops server: the board's web font link is cut off. */
async function context(credentials?: { username: string; password: string }) {
  const ctx: BrowserContext = await browser.newContext(
    credentials ? { httpCredentials: credentials } : {},
  );
  await ctx.route(/^https?:\/\/(?!127\.0\.0\.1[:/])/, (route) => route.abort());
  return ctx;
}

describe('the queue board in a browser (Chromium)', () => {
  it('shows push-events and rollouts to an operator who answers the basic-auth prompt', async () => {
    requireChromium();
    const ctx = await context({ username: 'operator', password: TOKEN });
    try {
      const page = await ctx.newPage();
      const failed: string[] = [];
      page.on('response', (response) => {
        if (response.url().startsWith(boardUrl) && response.status() >= 400)
          failed.push(`${response.status()} ${response.url()}`);
      });
      const response = await page.goto(boardUrl);
      expect(response?.status()).toBe(200);
      for (const name of ['push-events', 'rollouts'])
        await page.getByText(name, { exact: true }).first().waitFor({ timeout: 10_000 });
      // The queue cards count the jobs the file enqueued: two push events, one rollout.
      await page.getByText('2 Jobs', { exact: true }).waitFor({ timeout: 10_000 });
      await page.getByText('1 Job', { exact: true }).waitFor({ timeout: 10_000 });
      expect(failed).toEqual([]);
    } finally {
      await ctx.close();
    }
  });

  it('shows nothing of the board to a browser without the token', async () => {
    requireChromium();
    const ctx = await context({ username: 'operator', password: 'not-the-token-0123456789' });
    try {
      const page = await ctx.newPage();
      const response = await page.goto(boardUrl);
      expect(response?.status()).toBe(401);
      expect(await page.content()).not.toContain('push-events');
    } finally {
      await ctx.close();
    }
  });
});
