import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKubeEmulator, type KubeEmulator } from './index.js';
import { deploymentManifest } from './testing/fixtures.js';

let emulator: KubeEmulator;

beforeAll(async () => {
  emulator = await startKubeEmulator({ port: 0, bookmarkIntervalMs: 100 });
});
afterAll(async () => {
  await emulator.stop();
});

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
}

async function call(
  method: string,
  path: string,
  body?: unknown,
  contentType = 'application/json',
): Promise<Reply> {
  const response = await fetch(`${emulator.url}${path}`, {
    method,
    headers: { 'Content-Type': contentType },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  return {
    status: response.status,
    headers: Object.fromEntries(response.headers.entries()),
    body: (await response.json()) as Record<string, unknown>,
  };
}

/** Reads watch events (one JSON object per line) until `count` arrived or the stream ends. */
function watchEvents(
  path: string,
  count: number,
  timeoutMs = 3000,
): Promise<{ type: string; object: Record<string, unknown> }[]> {
  return new Promise((resolve, reject) => {
    const events: { type: string; object: Record<string, unknown> }[] = [];
    const req = request(`${emulator.url}${path}`, (res) => {
      let buffer = '';
      res.on('data', (chunk: Buffer) => {
        buffer += chunk.toString('utf8');
        let newline = buffer.indexOf('\n');
        while (newline >= 0) {
          events.push(
            JSON.parse(buffer.slice(0, newline)) as {
              type: string;
              object: Record<string, unknown>;
            },
          );
          buffer = buffer.slice(newline + 1);
          newline = buffer.indexOf('\n');
        }
        if (events.length >= count) {
          req.destroy();
          resolve(events);
        }
      });
      res.on('end', () => resolve(events));
    });
    req.on('error', reject);
    req.setTimeout(timeoutMs, () => {
      req.destroy();
      resolve(events);
    });
    req.end();
  });
}

const cm = (name: string, labels: Record<string, string> = {}): unknown => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, labels },
});

describe('the emulator over HTTP', () => {
  it('serves discovery documents shaped like kube-apiserver', async () => {
    const version = await call('GET', '/version');
    expect(version.body).toMatchObject({
      major: '1',
      gitVersion: expect.stringMatching(/^v1\./) as unknown,
    });
    const apps = await call('GET', '/apis/apps/v1');
    expect(apps.body).toMatchObject({
      kind: 'APIResourceList',
      apiVersion: 'v1',
      groupVersion: 'apps/v1',
    });
    const resources = apps.body.resources as Record<string, unknown>[];
    expect(resources.find((r) => r.name === 'deployments/scale')).toEqual({
      name: 'deployments/scale',
      singularName: '',
      namespaced: true,
      group: 'autoscaling',
      version: 'v1',
      kind: 'Scale',
      verbs: ['get', 'patch', 'update'],
    });
    const missing = await call('GET', '/apis/nope.example/v1');
    expect(missing.status).toBe(404);
  });

  it('pages lists with limit/continue and filters by field selector', async () => {
    await call('POST', '/api/v1/namespaces', { metadata: { name: 'paging' } });
    for (const name of ['a', 'b', 'c'])
      await call('POST', '/api/v1/namespaces/paging/configmaps', cm(name));
    const first = await call('GET', '/api/v1/namespaces/paging/configmaps?limit=2');
    expect(
      (first.body.items as { metadata: { name: string } }[]).map((i) => i.metadata.name),
    ).toEqual(['a', 'b']);
    const meta = first.body.metadata as { continue: string; remainingItemCount: number };
    expect(meta.remainingItemCount).toBe(1);
    const second = await call(
      'GET',
      `/api/v1/namespaces/paging/configmaps?limit=2&continue=${encodeURIComponent(meta.continue)}`,
    );
    expect(
      (second.body.items as { metadata: { name: string } }[]).map((i) => i.metadata.name),
    ).toEqual(['c']);
    expect((second.body.metadata as { continue?: string }).continue).toBeUndefined();
    const byName = await call(
      'GET',
      '/api/v1/configmaps?fieldSelector=metadata.name%3Db,metadata.namespace%3Dpaging',
    );
    expect((byName.body.items as unknown[]).length).toBe(1);
  });

  it('watches from a resourceVersion: ADDED/MODIFIED/DELETED in order, BOOKMARKs when allowed', async () => {
    await call('POST', '/api/v1/namespaces', { metadata: { name: 'watching' } });
    const start = await call('GET', '/api/v1/namespaces/watching/configmaps');
    const rv = (start.body.metadata as { resourceVersion: string }).resourceVersion;
    const events = watchEvents(
      `/api/v1/namespaces/watching/configmaps?watch=1&resourceVersion=${rv}&allowWatchBookmarks=true`,
      5,
    );
    await new Promise((r) => setTimeout(r, 50));
    await call('POST', '/api/v1/namespaces/watching/configmaps', cm('x'));
    await call(
      'PATCH',
      '/api/v1/namespaces/watching/configmaps/x',
      { data: { k: 'v' } },
      'application/merge-patch+json',
    );
    await call('DELETE', '/api/v1/namespaces/watching/configmaps/x');
    // A BOOKMARK may come between the changes on a slow machine: judge the changes in order, apart.
    const all = await events;
    const seen = [
      ...all.filter((e) => e.type !== 'BOOKMARK'),
      ...all.filter((e) => e.type === 'BOOKMARK'),
    ];
    expect(seen.slice(0, 3).map((e) => e.type)).toEqual(['ADDED', 'MODIFIED', 'DELETED']);
    expect(seen[0]?.object).toMatchObject({ kind: 'ConfigMap', apiVersion: 'v1' });
    const versions = seen
      .slice(0, 3)
      .map((e) => Number((e.object.metadata as { resourceVersion: string }).resourceVersion));
    expect(versions).toEqual([...versions].sort((a, b) => a - b));
    expect(seen[3]).toMatchObject({
      type: 'BOOKMARK',
      object: { kind: 'ConfigMap', metadata: { resourceVersion: expect.any(String) as unknown } },
    });
  });

  it('a label-selected watch sees DELETED when an object stops matching', async () => {
    await call('POST', '/api/v1/namespaces/watching/configmaps', cm('sel', { team: 'a' }));
    const events = watchEvents(
      '/api/v1/namespaces/watching/configmaps?watch=true&labelSelector=team%3Da',
      2,
    );
    await new Promise((r) => setTimeout(r, 50));
    await call(
      'PATCH',
      '/api/v1/namespaces/watching/configmaps/sel',
      { metadata: { labels: { team: 'b' } } },
      'application/merge-patch+json',
    );
    expect((await events).map((e) => e.type)).toEqual(['ADDED', 'DELETED']);
  });

  it('answers a watch from a compacted resourceVersion with an ERROR event holding a 410 Expired Status', async () => {
    const before = await call('GET', '/api/v1/namespaces/watching/configmaps');
    const rv = Number((before.body.metadata as { resourceVersion: string }).resourceVersion);
    await call('POST', '/api/v1/namespaces/watching/configmaps', cm('later'));
    emulator.compact();
    const [event] = await watchEvents(
      `/api/v1/namespaces/watching/configmaps?watch=true&resourceVersion=${rv}`,
      1,
    );
    expect(event).toEqual({
      type: 'ERROR',
      object: {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: expect.stringMatching(/^too old resource version: \d+ \(\d+\)$/) as unknown,
        reason: 'Expired',
        code: 410,
      },
    });
  });

  it('ends a watch after timeoutSeconds', async () => {
    const started = Date.now();
    const events = await watchEvents(
      '/api/v1/namespaces/watching/configmaps?watch=true&timeoutSeconds=1&resourceVersion=0',
      1000,
      5000,
    );
    expect(events.every((e) => e.type === 'ADDED')).toBe(true);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('ignores status written through the main resource and spec written through /status', async () => {
    const created = await call('POST', '/apis/apps/v1/namespaces/default/deployments', {
      ...deploymentManifest('subres'),
      status: { replicas: 7 },
    });
    expect(created.status).toBe(201);
    expect((created.body.status as { replicas?: number } | undefined)?.replicas).not.toBe(7);
    const status = await call(
      'PATCH',
      '/apis/apps/v1/namespaces/default/deployments/subres/status',
      { spec: { replicas: 9 }, status: { observedGeneration: 42 } },
      'application/merge-patch+json',
    );
    expect(status.status).toBe(200);
    expect((status.body.spec as { replicas: number }).replicas).toBe(2);
    expect((status.body.status as { observedGeneration: number }).observedGeneration).toBe(42);
  });

  it('answers 422 Invalid for a Deployment whose selector does not match its template', async () => {
    const manifest = deploymentManifest('mismatch') as { spec: { selector: unknown } };
    manifest.spec.selector = { matchLabels: { app: 'other' } };
    const reply = await call('POST', '/apis/apps/v1/namespaces/default/deployments', manifest);
    expect(reply.status).toBe(422);
    expect(reply.body).toMatchObject({
      reason: 'Invalid',
      message:
        'Deployment.apps "mismatch" is invalid: spec.template.metadata.labels: Invalid value: map[string]string{"app":"mismatch"}: `selector` does not match template `labels`',
      details: { name: 'mismatch', group: 'apps', kind: 'Deployment' },
    });
  });

  it('injects faults a number of times, with Retry-After, and records every request', async () => {
    emulator.faults.inject({
      method: 'GET',
      pathPattern: '/api/v1/namespaces/default/configmaps',
      status: 429,
      times: 2,
      retryAfterSeconds: 3,
    });
    const first = await call('GET', '/api/v1/namespaces/default/configmaps');
    const second = await call('GET', '/api/v1/namespaces/default/configmaps');
    const third = await call('GET', '/api/v1/namespaces/default/configmaps');
    expect([first.status, second.status, third.status]).toEqual([429, 429, 200]);
    expect(first.headers['retry-after']).toBe('3');
    expect(first.body).toMatchObject({
      kind: 'Status',
      reason: 'TooManyRequests',
      code: 429,
      details: { retryAfterSeconds: 3 },
    });
    const log = emulator.requests.filter(
      (r) => r.path === '/api/v1/namespaces/default/configmaps' && r.method === 'GET',
    );
    expect(log.slice(-3).map((r) => r.status)).toEqual([429, 429, 200]);

    emulator.faults.inject({ pathPattern: /\/configmaps\/hang$/, hang: true });
    const controller = new AbortController();
    const hung = fetch(`${emulator.url}/api/v1/namespaces/default/configmaps/hang`, {
      signal: controller.signal,
    });
    const outcome = await Promise.race([
      hung.then(() => 'answered'),
      new Promise((r) => setTimeout(() => r('hanging'), 300)),
    ]);
    controller.abort();
    await hung.catch(() => undefined);
    expect(outcome).toBe('hanging');

    emulator.faults.setLatency(150);
    const started = Date.now();
    await call('GET', '/version');
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    emulator.faults.clear();
  });
});
