import { once } from 'node:events';
import { EventEmitter } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOpsApp } from '../../src/http/ops-app.js';
import { ChangeStream, type CvChange, type WorkloadChange } from '../../src/http/stream-router.js';
import { Metrics } from '../../src/observability/metrics.js';
import { QueueAdmin } from '../../src/queue/queue-admin.js';
import { openBoardQueues, type BoardQueues } from './board-queues.js';

const OPS = 'ops-token-0123456789abcdef';
const ADMIN = 'admin-token-0123456789abcdef';
const BOARD_ACTION = '/admin/queues/api/queues/push-events/clean/completed';

let queues: BoardQueues;
let clock = new Date('2026-12-02T06:00:00Z');

/** A change source as the informer and the workload watcher offer it: listeners, unsubscribe. */
class Source<T> {
  private readonly emitter = new EventEmitter();
  onChange(listener: (change: T) => void): () => void {
    this.emitter.on('change', listener);
    return () => this.emitter.off('change', listener);
  }
  emit(change: T): void {
    this.emitter.emit('change', change);
  }
  get listeners(): number {
    return this.emitter.listenerCount('change');
  }
}
const cvs = new Source<CvChange>();
const workloads = new Source<WorkloadChange>();
const stream = new ChangeStream({
  containerVersions: cvs,
  workloads,
  workloadEventsPerSecond: 4,
  heartbeatMs: 200,
});
let app: ReturnType<typeof createOpsApp>;

beforeAll(async () => {
  queues = await openBoardQueues('dashboard-login');
  app = createOpsApp({
    metrics: new Metrics({ defaultMetrics: false }),
    readiness: [],
    opsToken: OPS,
    adminToken: ADMIN,
    queues: [queues.pushEvents.queue, queues.rollouts.queue],
    queueAdmin: new QueueAdmin({ pushEvents: queues.pushEvents, rollouts: queues.rollouts }),
    sessionSeconds: 3600,
    stream,
    now: () => clock,
  });
});
afterAll(async () => {
  await stream.stop();
  await queues?.close();
});

/** Logs in with `token` through the form; returns the `name=value` of the session cookie. */
async function login(token: string): Promise<string> {
  const response = await request(app)
    .post('/login')
    .type('form')
    .send({ token, next: '/#/cv/shop/api' })
    .expect(303);
  expect(response.headers.location).toBe('/#/cv/shop/api');
  const cookie = String(response.headers['set-cookie']);
  return cookie.split(';')[0]!;
}

const csrfOf = (html: string) => /name="cvm-csrf" content="([^"]+)"/.exec(html)?.[1];

describe('logging in to the ops port', () => {
  it('sends a browser without credentials from / to the login form, and an API client gets 401 JSON', async () => {
    const page = await request(app).get('/').set('accept', 'text/html,*/*;q=0.8').expect(303);
    expect(page.headers.location).toBe('/login?next=%2F');
    const form = await request(app).get('/login?next=%2F').expect(200);
    expect(form.text).toContain('name="token"');
    expect(form.text).toContain('<meta name="viewport"');
    for (const path of ['/', '/api/v1/workloads', '/api/v1/stream']) {
      const api = await request(app).get(path).set('accept', 'application/json').expect(401);
      expect(api.body).toMatchObject({ error: 'unauthorized' });
    }
    await request(app).get('/healthz').expect(200);
    await request(app).get('/readyz').expect(200);
  });

  it('refuses a wrong token (401, the form again) and a missing one (400 naming the field)', async () => {
    const wrong = await request(app)
      .post('/login')
      .type('form')
      .send({ token: `${OPS}x` });
    expect(wrong.status).toBe(401);
    expect(wrong.headers['set-cookie']).toBeUndefined();
    expect(wrong.text).toContain('neither the ops nor the admin token');
    const missing = await request(app).post('/login').send({});
    expect(missing.status).toBe(400);
    expect(missing.body.message).toMatch(/^token:/);
  });

  it('sets an HttpOnly, SameSite=Strict session cookie, Secure behind an https proxy', async () => {
    const plain = await request(app).post('/login').type('form').send({ token: OPS });
    expect(String(plain.headers['set-cookie'])).toMatch(
      /^cvm_session=v1\.ops\.\d+\.[\w-]+; Path=\/; Max-Age=3600; HttpOnly; SameSite=Strict$/,
    );
    const proxied = await request(app)
      .post('/login')
      .set('x-forwarded-proto', 'https')
      .type('form')
      .send({ token: ADMIN });
    expect(String(proxied.headers['set-cookie'])).toMatch(/^cvm_session=v1\.admin\..*; Secure$/);
  });

  it('lets one session read the page, the queue board, /metrics and the API', async () => {
    const cookie = await login(OPS);
    const page = await request(app).get('/').set('cookie', cookie).expect(200);
    expect(page.text).toContain('<meta name="cvm-role" content="ops">');
    expect(csrfOf(page.text)).toMatch(/^[\w-]{43}$/);
    expect(page.text).toContain('src="/ui/dashboard.js"');
    await request(app).get('/admin/queues/').set('cookie', cookie).expect(200);
    await request(app).get('/metrics').set('cookie', cookie).expect(200);
    // This app serves no REST API (no CV sources): past the auth, /api/v1 answers 404, not 401.
    const api = await request(app).get('/api/v1/workloads').set('cookie', cookie).expect(404);
    expect(api.body).toMatchObject({ error: 'not found' });
  });

  it('keeps basic auth and bearer tokens working beside the cookie', async () => {
    await request(app).get('/').auth('operator', OPS).expect(200);
    await request(app).get('/metrics').set('authorization', `Bearer ${OPS}`).expect(200);
  });

  it('answers 403 to an ops-role session on an action, even with the CSRF value', async () => {
    const cookie = await login(OPS);
    const csrf = csrfOf((await request(app).get('/').set('cookie', cookie)).text)!;
    const response = await request(app)
      .put(BOARD_ACTION)
      .set('cookie', cookie)
      .set('x-cvm-csrf', csrf)
      .expect(403);
    expect(response.body.message).toContain('CVM_ADMIN_TOKEN');
  });

  it('takes an action from an admin session only with the CSRF value or from this origin', async () => {
    const cookie = await login(ADMIN);
    const csrf = csrfOf((await request(app).get('/').set('cookie', cookie)).text)!;
    const forged = await request(app).put(BOARD_ACTION).set('cookie', cookie).expect(403);
    expect(forged.body).toMatchObject({ error: 'csrf' });
    await request(app)
      .put(BOARD_ACTION)
      .set('cookie', cookie)
      .set('origin', 'https://evil.example')
      .expect(403);
    await request(app)
      .put(BOARD_ACTION)
      .set('cookie', cookie)
      .set('x-cvm-csrf', `${csrf}x`)
      .expect(403);
    await request(app).put(BOARD_ACTION).set('cookie', cookie).set('x-cvm-csrf', csrf).expect(200);
    const host = '127.0.0.1:8081';
    await request(app)
      .put(BOARD_ACTION)
      .set('host', host)
      .set('cookie', cookie)
      .set('origin', `http://${host}`)
      .expect(200);
    // A bearer client needs no CSRF value.
    await request(app).put(BOARD_ACTION).set('authorization', `Bearer ${ADMIN}`).expect(200);
  });

  it('ends a session at its expiry and at logout', async () => {
    const cookie = await login(OPS);
    const started = clock;
    try {
      clock = new Date(started.getTime() + 3600_000);
      const api = await request(app).get('/api/v1/workloads').set('cookie', cookie).expect(401);
      expect(api.body.message).toContain('expired');
      await request(app).get('/').set('cookie', cookie).set('accept', 'text/html').expect(303);
    } finally {
      clock = started;
    }
    await request(app)
      .post('/logout')
      .set('cookie', cookie)
      .set('origin', 'https://evil.example')
      .expect(403);
    const out = await request(app).post('/logout').set('cookie', cookie).expect(303);
    expect(out.headers.location).toBe('/login');
    expect(String(out.headers['set-cookie'])).toMatch(/^cvm_session=; Path=\/; Max-Age=0;/);
  });

  it('serves the dashboard script and styles without credentials (they hold no data)', async () => {
    const js = await request(app).get('/ui/dashboard.js').expect(200);
    expect(js.headers['content-type']).toMatch(/^text\/javascript/);
    expect(js.text).toContain('EventSource');
    const css = await request(app).get('/ui/dashboard.css').expect(200);
    expect(css.text).toContain('@media (max-width');
    await request(app).get('/ui/nothing.js').expect(404);
  });
});

/** Reads server-sent events from `url` until `until` says enough; returns the events. */
async function readEvents(
  url: string,
  headers: Record<string, string>,
  until: (events: { event: string; data: any }[], raw: string) => boolean,
  onOpen: () => void,
): Promise<{ events: { event: string; data: any }[]; raw: string }> {
  const response = await fetch(url, { headers, signal: AbortSignal.timeout(10_000) });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let raw = '';
  const events: { event: string; data: any }[] = [];
  let opened = false;
  try {
    while (!until(events, raw)) {
      const { value, done } = await reader.read();
      if (done) break;
      raw += decoder.decode(value, { stream: true });
      events.length = 0;
      for (const block of raw.split('\n\n').slice(0, -1)) {
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event && data) events.push({ event, data: JSON.parse(data) });
      }
      if (!opened && events.some((e) => e.event === 'hello')) {
        opened = true;
        onOpen();
      }
    }
  } finally {
    await reader.cancel();
  }
  return { events, raw };
}

describe('the change stream (GET /api/v1/stream)', () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    server = createServer(app).listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server?.closeAllConnections();
    server?.close();
  });

  it('sends every CV change, merges a burst of workload changes, beats, and lets go on close', async () => {
    const cookie = await login(OPS);
    const startedAt = Date.now();
    const { events, raw } = await readEvents(
      `${base}/api/v1/stream`,
      { cookie },
      (seen, text) =>
        seen.filter((e) => e.event === 'workloads').length >= 2 && text.includes(': heartbeat'),
      () => {
        cvs.emit({
          type: 'update',
          object: { metadata: { namespace: 'shop', name: 'api', resourceVersion: '7' } },
        });
        // 50 watch events at once, on two Deployments: merged, at most 4 events a second.
        for (let i = 0; i < 50; i++)
          workloads.emit({
            kind: 'Deployment',
            namespace: 'shop',
            name: `api-${i % 2}`,
            deleted: false,
          });
        setTimeout(
          () =>
            workloads.emit({ kind: 'Deployment', namespace: 'shop', name: 'web', deleted: true }),
          50,
        );
      },
    );
    expect(events[0]).toMatchObject({ event: 'hello' });
    expect(events.filter((e) => e.event === 'cv').map((e) => e.data)).toEqual([
      { type: 'update', namespace: 'shop', name: 'api', resourceVersion: '7' },
    ]);
    const batches = events.filter((e) => e.event === 'workloads').map((e) => e.data.changed);
    expect(batches[0]).toEqual([
      { kind: 'Deployment', namespace: 'shop', name: 'api-0', deleted: false },
      { kind: 'Deployment', namespace: 'shop', name: 'api-1', deleted: false },
    ]);
    expect(batches[1]).toEqual([
      { kind: 'Deployment', namespace: 'shop', name: 'web', deleted: true },
    ]);
    // The second batch waited for the throttle: 250 ms after the first, not 50.
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(240);
    expect(raw).toContain('retry: 2000');
    await expect.poll(() => cvs.listeners + workloads.listeners, { timeout: 2_000 }).toBe(0);
    expect(stream.size).toBe(0);
  });

  it('needs credentials like the API', async () => {
    const response = await fetch(`${base}/api/v1/stream`, { signal: AbortSignal.timeout(5_000) });
    expect(response.status).toBe(401);
  });
});
