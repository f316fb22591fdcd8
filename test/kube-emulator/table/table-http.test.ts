import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKubeEmulator, type KubeEmulator } from '../index.js';

const tableV1 = 'application/json;as=Table;v=v1;g=meta.k8s.io';
const tableV1beta1 = 'application/json;as=Table;v=v1beta1;g=meta.k8s.io';
/** What kubectl 1.32 sends for `kubectl get`. */
const kubectlAccept = `${tableV1},${tableV1beta1},application/json`;

let emulator: KubeEmulator;

beforeAll(async () => {
  emulator = await startKubeEmulator({ port: 0 });
  for (const name of ['alpha', 'beta']) {
    await fetch(`${emulator.url}/api/v1/namespaces/default/configmaps`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ metadata: { name, labels: { app: name } }, data: { a: '1', b: '2' } }),
    });
  }
});
afterAll(async () => {
  await emulator.stop();
});

async function get(path: string, accept: string): Promise<{ status: number; body: any }> {
  const response = await fetch(`${emulator.url}${path}`, { headers: { Accept: accept } });
  return { status: response.status, body: await response.json() };
}

describe('Table answers (server-side printing)', () => {
  it('a list asked for as a v1 Table has column definitions, cells and PartialObjectMetadata rows', async () => {
    const { status, body } = await get('/api/v1/namespaces/default/configmaps', kubectlAccept);
    expect(status).toBe(200);
    expect(body.kind).toBe('Table');
    expect(body.apiVersion).toBe('meta.k8s.io/v1');
    expect(body.metadata.resourceVersion).toBe(emulator.store.resourceVersion());
    expect(body.columnDefinitions.map((c: { name: string }) => c.name)).toEqual([
      'Name',
      'Data',
      'Age',
    ]);
    expect(body.columnDefinitions[0]).toMatchObject({
      type: 'string',
      format: 'name',
      priority: 0,
    });
    expect(body.rows.map((r: { cells: unknown[] }) => r.cells.slice(0, 2))).toEqual([
      ['alpha', 2],
      ['beta', 2],
    ]);
    expect(body.rows[0].object).toMatchObject({
      kind: 'PartialObjectMetadata',
      apiVersion: 'meta.k8s.io/v1',
      metadata: { name: 'alpha', namespace: 'default', labels: { app: 'alpha' } },
    });
    expect(body.rows[0].object.data).toBeUndefined();
  });

  it('answers v1beta1 when that is the first acceptable range, and the object when JSON comes first', async () => {
    const beta = await get(
      '/api/v1/namespaces/default/configmaps/alpha',
      `${tableV1beta1},application/json`,
    );
    expect(beta.body.apiVersion).toBe('meta.k8s.io/v1beta1');
    expect(beta.body.rows).toHaveLength(1);
    expect(beta.body.rows[0].object.apiVersion).toBe('meta.k8s.io/v1beta1');
    const plain = await get(
      '/api/v1/namespaces/default/configmaps/alpha',
      `application/json,${tableV1}`,
    );
    expect(plain.body.kind).toBe('ConfigMap');
  });

  it('includeObject=None leaves rows without objects, Object carries the whole object, anything else is 400', async () => {
    const none = await get('/api/v1/namespaces/default/configmaps?includeObject=None', tableV1);
    expect(none.body.rows[0].object).toBeNull();
    const whole = await get('/api/v1/namespaces/default/configmaps?includeObject=Object', tableV1);
    expect(whole.body.rows[0].object).toMatchObject({
      kind: 'ConfigMap',
      apiVersion: 'v1',
      data: { a: '1' },
    });
    const bad = await get('/api/v1/namespaces/default/configmaps?includeObject=All', tableV1);
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({
      kind: 'Status',
      reason: 'BadRequest',
      message: 'unrecognized includeObject value: "All"',
    });
  });

  it('a Table watch sends one-row Tables; only the first event carries the column definitions', async () => {
    const events = await new Promise<{ type: string; object: any }[]>((resolve, reject) => {
      const seen: { type: string; object: any }[] = [];
      const req = request(
        `${emulator.url}/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=0`,
        { headers: { Accept: tableV1 } },
        (res) => {
          let buffer = '';
          res.on('data', (chunk: Buffer) => {
            buffer += chunk.toString('utf8');
            const lines = buffer.split('\n');
            buffer = lines.pop() ?? '';
            seen.push(...lines.map((l) => JSON.parse(l) as { type: string; object: any }));
            if (seen.length >= 2) {
              req.destroy();
              resolve(seen);
            }
          });
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(events.map((e) => [e.type, e.object.kind, e.object.rows[0].cells[0]])).toEqual([
      ['ADDED', 'Table', 'alpha'],
      ['ADDED', 'Table', 'beta'],
    ]);
    expect(events[0]?.object.columnDefinitions).toHaveLength(3);
    expect(events[1]?.object.columnDefinitions).toBeNull();
  });
});
