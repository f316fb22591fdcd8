import { spawn } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/redis-server.js';
import { MACHINE_REDIS_URL } from '../support/receiver-parts.js';
import { waitFor } from '../support/wait-for.js';

const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const SECRET = 'process-test-secret-0123456789';
const OPS_TOKEN = 'process-test-ops-token-0123456789';
const ADMIN_TOKEN = 'process-test-admin-token-0123456789';
const prefix = `test-${randomUUID().slice(0, 8)}`;
const queue = new Queue('push-events', { connection: { url: MACHINE_REDIS_URL }, prefix });

afterAll(async () => {
  await queue.obliterate({ force: true });
  await queue.close();
});

describe('cvm receiver (the process)', () => {
  it('serves webhooks and ops endpoints, enqueues, and stops cleanly on SIGTERM', async () => {
    const [webhookPort, opsPort] = [await freePort(), await freePort()];
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !k.startsWith('CVM_')),
    );
    const proc = spawn(process.execPath, ['--import', 'tsx', main, 'receiver'], {
      env: {
        ...env,
        CVM_REDIS_URL: MACHINE_REDIS_URL,
        CVM_WEBHOOK_PORT: String(webhookPort),
        CVM_OPS_PORT: String(opsPort),
        CVM_LISTEN_HOST: '127.0.0.1',
        CVM_QUEUE_PREFIX: prefix,
        CVM_GENERIC_SECRETS: SECRET,
        CVM_OPS_TOKEN: OPS_TOKEN,
        CVM_ADMIN_TOKEN: ADMIN_TOKEN,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    proc.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    proc.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    try {
      await waitFor(() => out.includes('"msg":"cvm started"'), 'the receiver to start');
      await waitFor(
        async () => (await fetch(`http://127.0.0.1:${opsPort}/readyz`)).status === 200,
        'readiness',
      );

      const body = JSON.stringify({ image: 'ghcr.io/acme/api:prod', id: 'run-1' });
      const signature = `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;
      const response = await fetch(`http://127.0.0.1:${webhookPort}/webhooks/generic`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-cvm-signature-256': signature },
        body,
      });
      expect(response.status).toBe(202);
      const jobs = await queue.getJobs(['wait']);
      expect(jobs.map((j) => j.data)).toEqual([
        expect.objectContaining({
          registry: 'ghcr.io',
          repository: 'acme/api',
          tag: 'prod',
          sourceEventId: 'run-1',
        }),
      ]);

      expect((await fetch(`http://127.0.0.1:${opsPort}/metrics`)).status).toBe(401);
      const metrics = await (
        await fetch(`http://127.0.0.1:${opsPort}/metrics`, {
          headers: { authorization: `Bearer ${OPS_TOKEN}` },
        })
      ).text();
      expect(metrics).toContain(
        'cvm_webhook_requests_total{source="generic",outcome="accepted"} 1',
      );
      // The queue board: read-only with the ops token, actions with the admin token.
      const board = async (token: string) =>
        (
          (await (
            await fetch(`http://127.0.0.1:${opsPort}/admin/queues/api/queues`, {
              headers: { authorization: `Bearer ${token}` },
            })
          ).json()) as { queues: { name: string; readOnlyMode: boolean }[] }
        ).queues.map((q) => [q.name, q.readOnlyMode]);
      expect(await board(OPS_TOKEN)).toEqual(
        expect.arrayContaining([
          ['push-events', true],
          ['rollouts', true],
        ]),
      );
      expect(await board(ADMIN_TOKEN)).toEqual(
        expect.arrayContaining([
          ['push-events', false],
          ['rollouts', false],
        ]),
      );
      const retry = await fetch(
        `http://127.0.0.1:${opsPort}/admin/queues/api/queues/push-events/retry/failed`,
        { method: 'PUT', headers: { authorization: `Bearer ${OPS_TOKEN}` } },
      );
      expect(retry.status).toBe(403);

      expect(out).not.toContain(SECRET);
      expect(out).not.toContain(OPS_TOKEN);
      expect(out).not.toContain(ADMIN_TOKEN);
    } finally {
      proc.kill('SIGTERM');
      const [code] = (await once(proc, 'exit')) as [number | null];
      expect(code).toBe(0);
      expect(out).toContain('"msg":"stopped"');
    }
  });

  it('refuses to start with a bad key, naming it', async () => {
    const proc = spawn(process.execPath, ['--import', 'tsx', main, 'receiver'], {
      env: { ...process.env, CVM_WEBHOOK_PORT: '99999', CVM_GENERIC_SECRETS: 'short' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    proc.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const [code] = (await once(proc, 'exit')) as [number | null];
    expect(code).toBe(2);
    expect(err).toContain('CVM_WEBHOOK_PORT');
    expect(err).toContain('CVM_GENERIC_SECRETS');
    expect(err).not.toContain('short');
  });
});
