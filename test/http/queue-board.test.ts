import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOpsApp } from '../../src/http/ops-app.js';
import { Metrics } from '../../src/observability/metrics.js';
import { openBoardQueues, type BoardQueues } from './board-queues.js';

const TOKEN = 'board-token-0123456789abcdef';

let queues: BoardQueues;
beforeAll(async () => {
  queues = await openBoardQueues('board');
});
afterAll(async () => {
  await queues.close();
});

const opsApp = (opsToken: string | undefined) =>
  createOpsApp({
    metrics: new Metrics({ defaultMetrics: false }),
    readiness: [],
    opsToken,
    queues: [queues.pushEvents.queue, queues.rollouts.queue],
  });

/** The board page's own script and stylesheet paths, relative to its `<base href>`. */
const assetsOf = (html: string) =>
  [...html.matchAll(/(?:src|href)="(static\/[^"]+\.(?:js|css))"/g)].map((m) => m[1]!);

describe('the queue board at /admin/queues', () => {
  it('asks a browser for credentials', async () => {
    const response = await request(opsApp(TOKEN)).get('/admin/queues').expect(401);
    expect(response.headers['www-authenticate']).toMatch(/^Basic realm="cvm"/);
  });

  it('serves its page with basic auth, based at its mount path', async () => {
    const response = await request(opsApp(TOKEN))
      .get('/admin/queues')
      .auth('operator', TOKEN)
      .expect(200);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    expect(response.text).toMatch(/<base href="\/admin\/queues\/" ?\/?>/);
    expect(response.headers['x-powered-by']).toBeUndefined();
  });

  it('serves its scripts and styles only with credentials', async () => {
    const ops = opsApp(TOKEN);
    const page = await request(ops).get('/admin/queues').auth('operator', TOKEN).expect(200);
    const assets = assetsOf(page.text);
    expect(assets.some((a) => a.endsWith('.js'))).toBe(true);
    expect(assets.some((a) => a.endsWith('.css'))).toBe(true);
    for (const asset of assets) {
      await request(ops).get(`/admin/queues/${asset}`).expect(401);
      await request(ops).get(`/admin/queues/${asset}`).auth('operator', TOKEN).expect(200);
    }
  });

  it('lists push-events and rollouts with their job counts, read-only', async () => {
    const response = await request(opsApp(TOKEN))
      .get('/admin/queues/api/queues')
      .set('authorization', `Bearer ${TOKEN}`)
      .expect(200);
    const listed = response.body.queues as {
      name: string;
      counts: Record<string, number>;
      readOnlyMode: boolean;
      allowRetries: boolean;
      description?: string;
    }[];
    expect(listed.map((q) => q.name).sort()).toEqual(['push-events', 'rollouts']);
    const byName = Object.fromEntries(listed.map((q) => [q.name, q]));
    expect(byName['push-events']).toMatchObject({
      counts: expect.objectContaining({ waiting: 2 }),
      readOnlyMode: true,
      allowRetries: false,
      description: expect.stringContaining('PushEvent'),
    });
    expect(byName.rollouts).toMatchObject({
      counts: expect.objectContaining({ waiting: 1 }),
      readOnlyMode: true,
      allowRetries: false,
    });
  });

  it('refuses to pause a queue (403 saying how to enable actions), and the queue keeps running', async () => {
    const response = await request(opsApp(TOKEN))
      .put('/admin/queues/api/queues/rollouts/pause')
      .auth('operator', TOKEN)
      .expect(403);
    expect(response.body).toEqual({
      error: 'forbidden',
      message: expect.stringContaining('CVM_ADMIN_TOKEN'),
    });
    expect(await queues.rollouts.queue.isPaused()).toBe(false);
  });

  it('refuses to empty a queue, and its jobs stay', async () => {
    await request(opsApp(TOKEN))
      .put('/admin/queues/api/queues/push-events/empty')
      .auth('operator', TOKEN)
      .expect(403);
    expect(await queues.pushEvents.queue.getWaitingCount()).toBe(2);
  });

  it('is disabled (404) when CVM_OPS_TOKEN is unset, for its page, assets and API', async () => {
    const ops = opsApp(undefined);
    for (const path of ['/admin/queues', '/admin/queues/api/queues']) {
      const response = await request(ops).get(path).auth('operator', TOKEN).expect(404);
      expect(response.body).toMatchObject({ error: 'disabled' });
    }
  });

  it('is not served when the process has no queues', async () => {
    const ops = createOpsApp({
      metrics: new Metrics({ defaultMetrics: false }),
      readiness: [],
      opsToken: TOKEN,
    });
    await request(ops).get('/admin/queues').auth('operator', TOKEN).expect(404);
  });
});
