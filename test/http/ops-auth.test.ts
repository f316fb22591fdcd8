import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createOpsApp, type ReadinessCheck } from '../../src/http/ops-app.js';
import { offeredOpsToken, opsRoleOf } from '../../src/http/ops-auth.js';
import { Metrics } from '../../src/observability/metrics.js';

const TOKEN = 'ops-token-0123456789abcdef';
const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('offeredOpsToken', () => {
  it.each<[string, string | undefined, string | undefined]>([
    ['no header', undefined, undefined],
    ['a bearer token', `Bearer ${TOKEN}`, TOKEN],
    ['a bearer token, scheme in any case', `bEaReR ${TOKEN}`, TOKEN],
    ['basic auth: the password, whatever the user', basic('anyone', TOKEN), TOKEN],
    ['basic auth with an empty user', basic('', TOKEN), TOKEN],
    ['basic auth whose password holds a colon', basic('u', 'a:b:c'), 'a:b:c'],
    [
      'basic auth without a colon',
      `Basic ${Buffer.from('justauser').toString('base64')}`,
      undefined,
    ],
    ['an empty bearer', 'Bearer ', undefined],
    ['the bare token (no scheme)', TOKEN, undefined],
    ['another scheme', `Token ${TOKEN}`, undefined],
    ['extra words', `Bearer ${TOKEN} more`, undefined],
  ])('%s', (_name, header, expected) => {
    expect(offeredOpsToken(header)).toBe(expected);
  });
});

const ADMIN = 'admin-token-0123456789abcdef';

describe('opsRoleOf', () => {
  it.each<
    [string, string | undefined, { opsToken?: string; adminToken?: string }, string | undefined]
  >([
    ['the ops token', `Bearer ${TOKEN}`, { opsToken: TOKEN, adminToken: ADMIN }, 'ops'],
    ['the admin token', basic('a', ADMIN), { opsToken: TOKEN, adminToken: ADMIN }, 'admin'],
    ['the admin token, no ops token set', `Bearer ${ADMIN}`, { adminToken: ADMIN }, 'admin'],
    ['the admin token when none is set', `Bearer ${ADMIN}`, { opsToken: TOKEN }, undefined],
    ['an empty bearer, no admin token set', 'Bearer ', { opsToken: TOKEN }, undefined],
    ['neither token', `Bearer ${TOKEN}x`, { opsToken: TOKEN, adminToken: ADMIN }, undefined],
  ])('%s', (_name, header, tokens, role) => {
    expect(opsRoleOf(header, tokens)).toBe(role);
  });
});

const app = (opsToken: string | undefined, readiness: ReadinessCheck[] = []) =>
  createOpsApp({ metrics: new Metrics({ defaultMetrics: false }), readiness, opsToken });

describe('the ops port with CVM_OPS_TOKEN set', () => {
  it('answers kubelet probes without credentials', async () => {
    const ops = app(TOKEN, [{ name: 'redis', check: () => true }]);
    await request(ops).get('/healthz').expect(200, { status: 'ok' });
    await request(ops)
      .get('/readyz')
      .expect(200, { status: 'ready', checks: { redis: true } });
  });

  it('asks for credentials on /metrics with a Basic challenge, so browsers prompt', async () => {
    const response = await request(app(TOKEN)).get('/metrics').expect(401);
    expect(response.headers['www-authenticate']).toMatch(/^Basic realm="cvm"/);
    expect(response.body).toMatchObject({ error: 'unauthorized' });
    expect(response.text).not.toContain('cvm_webhook_requests_total');
  });

  it('asks for the token on every method of /metrics, OPTIONS included', async () => {
    for (const method of ['options', 'post', 'put', 'delete'] as const) {
      const response = await request(app(TOKEN))[method]('/metrics');
      expect({ method, status: response.status }).toEqual({ method, status: 401 });
    }
    const allowed = await request(app(TOKEN))
      .options('/metrics')
      .set('authorization', `Bearer ${TOKEN}`);
    expect(allowed.status).toBe(204);
    expect(allowed.headers.allow).toBe('GET, HEAD');
  });

  it('serves /metrics to a scraper with the bearer token', async () => {
    const response = await request(app(TOKEN))
      .get('/metrics')
      .set('authorization', `Bearer ${TOKEN}`)
      .expect(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain/);
    expect(response.text).toContain('cvm_webhook_requests_total');
  });

  it('serves /metrics to a browser with any user and the token as password', async () => {
    const response = await request(app(TOKEN)).get('/metrics').auth('operator', TOKEN).expect(200);
    expect(response.text).toContain('cvm_rollouts_total');
  });

  it.each([
    ['a wrong bearer token', `Bearer ${TOKEN}x`],
    ['a prefix of the token', `Bearer ${TOKEN.slice(0, -1)}`],
    ['basic auth with the token as user name', basic(TOKEN, 'nope')],
    ['basic auth with a wrong password', basic('operator', 'wrong-password-0123456789')],
    ['the bare token', TOKEN],
  ])('refuses %s', async (_name, authorization) => {
    await request(app(TOKEN)).get('/metrics').set('authorization', authorization).expect(401);
  });
});

describe('the ops port with CVM_OPS_TOKEN unset', () => {
  it('disables /metrics (404), even for a request that sends credentials', async () => {
    const ops = app(undefined);
    const response = await request(ops).get('/metrics').expect(404);
    expect(response.body).toMatchObject({ error: 'disabled' });
    expect(response.body.message).toContain('CVM_OPS_TOKEN');
    await request(ops).get('/metrics').set('authorization', 'Bearer anything').expect(404);
  });

  it('still answers kubelet probes', async () => {
    const ops = app(undefined, [{ name: 'redis', check: () => false }]);
    await request(ops).get('/healthz').expect(200);
    await request(ops)
      .get('/readyz')
      .expect(503, { status: 'not ready', checks: { redis: false } });
  });
});

describe('/api/v1 in a process without the REST API (the receiver role)', () => {
  it('answers 404 saying which roles serve it, and only after the credentials', async () => {
    const app = createOpsApp({
      metrics: new Metrics({ defaultMetrics: false }),
      readiness: [],
      opsToken: TOKEN,
    });
    expect((await request(app).get('/api/v1/workloads')).status).toBe(401);
    const response = await request(app)
      .get('/api/v1/workloads')
      .set('authorization', `Bearer ${TOKEN}`);
    expect(response.status).toBe(404);
    expect(response.body.message).toBe(
      'this process serves no REST API: it runs in the worker and reconciler roles',
    );
  });
});
