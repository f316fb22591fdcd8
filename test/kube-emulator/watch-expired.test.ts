import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKubeEmulator, type KubeEmulator } from './index.js';

const historyLimit = 5;
let emulator: KubeEmulator;

beforeAll(async () => {
  emulator = await startKubeEmulator({ port: 0, historyLimit });
});
afterAll(async () => {
  await emulator.stop();
});

async function createConfigMap(name: string): Promise<string> {
  const response = await fetch(`${emulator.url}/api/v1/namespaces/default/configmaps`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ metadata: { name } }),
  });
  expect(response.status).toBe(201);
  const created = (await response.json()) as { metadata: { resourceVersion: string } };
  return created.metadata.resourceVersion;
}

/** The whole watch stream, one parsed event per line; fails if the server keeps it open. */
async function wholeStream(resourceVersion: string): Promise<{ type: string; object: unknown }[]> {
  const response = await fetch(
    `${emulator.url}/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${resourceVersion}`,
    { signal: AbortSignal.timeout(3000) },
  );
  expect(response.status).toBe(200);
  const text = await response.text();
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as { type: string; object: unknown });
}

describe('a watch from a resourceVersion the history no longer holds', () => {
  it('answers one ERROR event with a 410 Expired Status and ends, instead of replaying what is left', async () => {
    const first = await createConfigMap('first');
    for (let i = 0; i < historyLimit * 2; i++) await createConfigMap(`later-${i}`);
    const events = await wholeStream(String(Number(first) - 1));
    expect(events).toEqual([
      {
        type: 'ERROR',
        object: {
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Failure',
          message: `too old resource version: ${Number(first) - 1} (${emulator.store.resourceVersion()})`,
          reason: 'Expired',
          code: 410,
        },
      },
    ]);
  });

  it('still resumes from a resourceVersion inside the retained history', async () => {
    const from = emulator.store.resourceVersion();
    await createConfigMap('resumed');
    const controller = new AbortController();
    const response = await fetch(
      `${emulator.url}/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${from}`,
      { signal: controller.signal },
    );
    const reader = response.body?.getReader();
    const chunk = await reader?.read();
    controller.abort();
    const line = new TextDecoder().decode(chunk?.value).split('\n')[0] ?? '';
    expect(JSON.parse(line)).toMatchObject({
      type: 'ADDED',
      object: { metadata: { name: 'resumed' } },
    });
  });
});
