import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  containerVersion,
  deployment,
  namespace,
  startCvmStack,
  type CvmStack,
} from '../support/cvm-stack.js';
import { waitFor } from '../support/wait-for.js';

// The REST API (`/api/v1` on the ops port) over real HTTP, on a stack of the emulator, Redis and
// docker-registry: reads from the caches, actions through the rollout engine, every answer
// checked against the OpenAPI document the API serves.

const OPS = 'rest-ops-token-0123456789abcdef';
const ADMIN = 'rest-admin-token-0123456789abcdef';
const NS = 'rest';

let stack: CvmStack;
let v1: string;
let v2: string;
let document: any;
let ajv: InstanceType<typeof Ajv2020>;

const url = (path: string) => `${stack.opsUrl}/api/v1${path}`;

/** A request with a token; resolves to status and JSON body, the body checked against the document. */
async function api(
  method: 'GET' | 'POST',
  path: string,
  options: { token?: string | null; body?: unknown; raw?: string; template?: string } = {},
): Promise<{ status: number; body: any }> {
  const token = options.token === undefined ? ADMIN : options.token;
  const response = await fetch(url(path), {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(options.body !== undefined || options.raw ? { 'content-type': 'application/json' } : {}),
    },
    ...(options.raw
      ? { body: options.raw }
      : options.body !== undefined
        ? { body: JSON.stringify(options.body) }
        : {}),
    signal: AbortSignal.timeout(15_000),
  });
  const body = await response.json();
  if (options.template) conforms(method, options.template, response.status, body);
  return { status: response.status, body };
}

/** The body matches the schema the OpenAPI document gives this path, method and status. */
function conforms(method: string, template: string, status: number, body: unknown): void {
  const operation = document.paths[template]?.[method.toLowerCase()];
  expect(operation, `${method} ${template} is documented`).toBeDefined();
  const response = operation.responses[String(status)];
  expect(response, `${method} ${template} documents ${status}`).toBeDefined();
  const ref: string = response.content['application/json'].schema.$ref;
  const validate = ajv.getSchema(`https://cvm.dev/openapi.json${ref}`);
  expect(validate, ref).toBeDefined();
  const valid = validate!(body);
  expect(valid, `${method} ${template} ${status}: ${JSON.stringify(validate!.errors)}`).toBe(true);
}

const CV = '/containerversions/{namespace}/{name}';

beforeAll(async () => {
  stack = await startCvmStack({ ops: { opsToken: OPS, adminToken: ADMIN } });
  const served = await fetch(url('/openapi.json'), {
    headers: { authorization: `Bearer ${OPS}` },
  });
  document = await served.json();
  ajv = new Ajv2020({ strict: false, allErrors: true, formats: { uri: true } });
  ajv.addSchema({ ...document, $id: 'https://cvm.dev/openapi.json' });
  await stack.apply([
    namespace(NS),
    deployment(NS, 'api', 'example.com/old/api:0'),
    containerVersion(NS, 'api', {
      imageRepo: stack.repo,
      tag: 'prod',
      versionPattern: '^v[0-9]+$',
      selector: { app: 'api' },
      container: 'api',
      pollIntervalSeconds: 0,
    }),
  ]);
  v1 = stack.push(['v1', 'prod']);
  await stack.rolloutOf(NS, 'api', v1);
  v2 = stack.push(['v2', 'prod']);
  await stack.rolloutOf(NS, 'api', v2);
}, 90_000);

afterAll(async () => {
  await stack?.stop();
});

const imageOf = (d: any) =>
  d.spec.template.spec.containers.find((c: any) => c.name === 'api').image;

describe('the OpenAPI document', () => {
  it('is OpenAPI 3.1, and every schema it names compiles (JSON Schema 2020-12)', () => {
    expect(document.openapi).toBe('3.1.0');
    for (const name of Object.keys(document.components.schemas))
      expect(
        ajv.getSchema(`https://cvm.dev/openapi.json#/components/schemas/${name}`),
        name,
      ).toBeDefined();
  });

  it('the check of answers against it can fail: a row without its fields does not conform', () => {
    const validate = ajv.getSchema('https://cvm.dev/openapi.json#/components/schemas/WorkloadList');
    expect(validate!({ items: [{ namespace: 'x' }] })).toBe(false);
    expect(validate!.errors?.map((e) => e.message)).toContain("must have required property 'kind'");
  });
});

describe('credentials', () => {
  it('no token: 401 with a Basic challenge; a wrong token: 401', async () => {
    const none = await fetch(url('/workloads'));
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toContain('Basic');
    expect((await api('GET', '/workloads', { token: 'wrong-token-000000000000' })).status).toBe(
      401,
    );
  });

  it('the ops token reads but may not act: 403 naming the admin token', async () => {
    expect((await api('GET', '/workloads', { token: OPS })).status).toBe(200);
    const action = await api('POST', `/containerversions/${NS}/api/sync`, {
      token: OPS,
      template: `${CV}/sync`,
    });
    expect(action.status).toBe(403);
    expect(action.body.message).toContain('CVM_ADMIN_TOKEN');
  });
});

describe('reads', () => {
  it('GET /workloads: the Deployment, its CV, the version a push rolled out, replicas and state', async () => {
    const { status, body } = await api('GET', '/workloads', { template: '/workloads' });
    expect(status).toBe(200);
    expect(body.items).toContainEqual(
      expect.objectContaining({
        namespace: NS,
        kind: 'Deployment',
        name: 'api',
        container: 'api',
        containerVersion: { namespace: NS, name: 'api' },
        version: 'v2',
        digest: v2,
        image: `${stack.repo}:v2@${v2}`,
        replicas: { desired: 2, ready: 2, updated: 2 },
        state: 'Ready',
        lastRollout: expect.objectContaining({ result: 'Succeeded', version: 'v2' }),
      }),
    );
  });

  it('GET /containerversions and /:namespace/:name: spec, status, conditions, state; 404 for an unknown one', async () => {
    const list = await api('GET', '/containerversions', { template: '/containerversions' });
    expect(list.body.items.map((c: any) => c.metadata.name)).toContain('api');
    const one = await api('GET', `/containerversions/${NS}/api`, { template: CV });
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({
      spec: { tag: 'prod', container: 'api' },
      status: { currentVersion: 'v2', currentDigest: v2 },
      state: 'Ready',
    });
    expect(one.body.status.conditions).toContainEqual(
      expect.objectContaining({ type: 'Ready', status: 'True' }),
    );
    const missing = await api('GET', `/containerversions/${NS}/nope`, { template: CV });
    expect(missing.status).toBe(404);
    expect(missing.body.message).toBe(`ContainerVersion ${NS}/nope not found`);
  });

  it('GET …/history: newest first, paginated with limit and continue; a bad limit is a 400 naming it', async () => {
    const first = await api('GET', `/containerversions/${NS}/api/history?limit=1`, {
      template: `${CV}/history`,
    });
    expect(first.body.items.map((e: any) => e.version)).toEqual(['v2']);
    expect(first.body.continue).toBeDefined();
    const second = await api(
      'GET',
      `/containerversions/${NS}/api/history?limit=1&continue=${first.body.continue}`,
      { template: `${CV}/history` },
    );
    expect(second.body.items.map((e: any) => e.version)).toEqual(['v1']);
    const bad = await api('GET', `/containerversions/${NS}/api/history?limit=0`, {
      template: `${CV}/history`,
    });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/^limit: /);
  });

  it("GET …/events: the CV's Events, newest first", async () => {
    const { body } = await api('GET', `/containerversions/${NS}/api/events`, {
      template: `${CV}/events`,
    });
    const reasons = body.items.map((e: any) => e.reason);
    expect(reasons).toEqual(expect.arrayContaining(['RolloutStarted']));
    expect(body.items[0].involvedObject).toMatchObject({ kind: 'ContainerVersion', name: 'api' });
  });

  it('GET /queues: the counts of both queues and the board', async () => {
    const { body } = await api('GET', '/queues', { template: '/queues' });
    expect(body.items.map((q: any) => q.queue).sort()).toEqual(['push-events', 'rollouts']);
    expect(body.board).toBe('/admin/queues');
  });
});

describe('actions', () => {
  it.each([
    ['a digest that is no digest', { digest: 'sha256:abc' }, /^digest: digest must be sha256:/],
    ['a version not in the history', { version: 'v9' }, /^version: v9 is not in the history/],
    ['an unknown field', { tag: 'v1' }, /^tag: unknown field/],
    [
      'both version and digest',
      { version: 'v1', digest: `sha256:${'0'.repeat(64)}` },
      /^digest: give version or digest/,
    ],
  ])('rollback with %s is a 400 naming the field', async (_name, body, message) => {
    const response = await api('POST', `/containerversions/${NS}/api/rollback`, {
      body,
      template: `${CV}/rollback`,
    });
    expect(response.status).toBe(400);
    expect(response.body.message).toMatch(message);
  });

  it('a body that is not JSON is a 400; an unknown CV a 404; an unknown action a 404', async () => {
    const raw = await api('POST', `/containerversions/${NS}/api/rollback`, { raw: '{"version":' });
    expect(raw).toMatchObject({ status: 400, body: { message: 'the body is not valid JSON' } });
    const missing = await api('POST', `/containerversions/${NS}/nope/rollback`, {
      template: `${CV}/rollback`,
    });
    expect(missing.status).toBe(404);
    expect((await api('POST', `/containerversions/${NS}/api/launch`)).status).toBe(404);
  });

  it('promote and retry with nothing to act on are a 409 saying why', async () => {
    const promote = await api('POST', `/containerversions/${NS}/api/promote`, {
      template: `${CV}/promote`,
    });
    expect(promote).toMatchObject({
      status: 409,
      body: { message: 'no rollout is in flight to promote' },
    });
    const retry = await api('POST', `/containerversions/${NS}/api/retry`, {
      template: `${CV}/retry`,
    });
    expect(retry).toMatchObject({
      status: 409,
      body: { message: 'the last rollout did not fail: nothing to retry' },
    });
  });

  it('sync?wait=true answers once cvm handled it', async () => {
    const { status, body } = await api('POST', `/containerversions/${NS}/api/sync?wait=true`, {
      template: `${CV}/sync`,
    });
    expect(status).toBe(200);
    expect(body.lastRequest).toMatchObject({ action: 'sync', result: 'Applied' });
    expect(body.request).toMatch(/^sync:/);
  });

  it('rollback (no body) goes to the previous good version: the Deployment runs v1, v2 is held back; back to v2 needs force', async () => {
    const { status, body } = await api('POST', `/containerversions/${NS}/api/rollback?wait=true`, {
      template: `${CV}/rollback`,
    });
    expect(status).toBe(200);
    expect(body.request).toMatch(new RegExp(`^rollback:${v1}:`));
    expect(body.lastRequest).toMatchObject({ action: 'rollback', result: 'Applied' });
    const cv = await stack.rolloutOf(NS, 'api', v1);
    expect(cv.status).toMatchObject({ currentVersion: 'v1', currentDigest: v1 });
    expect(cv.status.failedDigests).toContain(v2);
    expect(imageOf(await stack.deployment(NS, 'api'))).toBe(`${stack.repo}:v1@${v1}`);
    const history = await stack.history(NS, 'api');
    expect(history[0]).toMatchObject({ version: 'v1', result: 'Succeeded', trigger: 'rollback' });

    const unforced = await api('POST', `/containerversions/${NS}/api/rollback`, {
      body: { version: 'v2' },
      template: `${CV}/rollback`,
    });
    expect(unforced.status).toBe(409);
    expect(unforced.body.message).toContain('send "force": true');
    const forced = await api('POST', `/containerversions/${NS}/api/rollback?wait=true`, {
      body: { version: 'v2', force: true },
      template: `${CV}/rollback`,
    });
    expect(forced.body.lastRequest).toMatchObject({ action: 'force-rollback', result: 'Applied' });
    await waitFor(
      async () => imageOf(await stack.deployment(NS, 'api')) === `${stack.repo}:v2@${v2}`,
      'the Deployment back at v2',
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    const after = await stack.rolloutOf(NS, 'api', v2);
    expect(after.status.failedDigests ?? []).not.toContain(v2);
    expect(after.status.failedDigests).toContain(v1);
  }, 60_000);

  it('suspend sets spec.suspend and requests are then refused until resume', async () => {
    const suspended = await api('POST', `/containerversions/${NS}/api/suspend`, {
      template: `${CV}/suspend`,
    });
    expect(suspended).toMatchObject({ status: 200, body: { suspend: true } });
    expect((await stack.containerVersion(NS, 'api')).spec.suspend).toBe(true);
    await waitFor(
      async () => (await api('GET', `/containerversions/${NS}/api`)).body.state === 'Suspended',
      'the API to show the CV suspended',
    );
    const sync = await api('POST', `/containerversions/${NS}/api/sync`, {
      template: `${CV}/sync`,
    });
    expect(sync).toMatchObject({
      status: 409,
      body: { message: `${NS}/api is suspended; resume it first` },
    });
    const resumed = await api('POST', `/containerversions/${NS}/api/resume`, {
      template: `${CV}/resume`,
    });
    expect(resumed).toMatchObject({ status: 200, body: { suspend: false } });
    expect((await stack.containerVersion(NS, 'api')).spec.suspend).toBe(false);
  });
});
