import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue, Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisTargetFor } from '../../src/cli/run-roles.js';
import { loadConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/observability/logger.js';
import {
  closeConnection,
  createProducerConnection,
  createWorkerConnection,
  waitForReady,
  type Redis,
} from '../../src/queue/connections.js';
import { redisCli } from '../support/redis-sentinel.js';
import { freePort } from '../support/redis-server.js';
import { waitFor } from '../support/wait-for.js';

// A TLS-only redis-server with a password, its certificate signed by a CA of the test's own.
const dir = mkdtempSync(join(tmpdir(), 'cvm-redis-tls-'));
const file = (name: string) => join(dir, name);
const PASSWORD = 'tls-test-password-0123';
let port: number;
let server: ChildProcess;
const connections: Redis[] = [];
const logger = createLogger({ level: 'silent' });

function makeCertificates(): void {
  const openssl = (...args: string[]) =>
    execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '1',
    '-subj',
    '/CN=cvm-test-ca',
  );
  openssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
    '-subj',
    '/CN=127.0.0.1',
  );
  writeFileSync(file('ext.cnf'), 'subjectAltName=IP:127.0.0.1\n');
  openssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.crt',
    '-days',
    '1',
    '-extfile',
    'ext.cnf',
  );
}

beforeAll(async () => {
  makeCertificates();
  port = await freePort();
  server = spawn(
    'redis-server',
    [
      '--port',
      '0',
      '--tls-port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--tls-cert-file',
      file('server.crt'),
      '--tls-key-file',
      file('server.key'),
      '--tls-ca-cert-file',
      file('ca.crt'),
      '--tls-auth-clients',
      'no',
      '--requirepass',
      PASSWORD,
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
    ],
    { stdio: 'ignore' },
  );
  await waitFor(
    () =>
      redisCli(
        port,
        '--tls',
        '--cacert',
        file('ca.crt'),
        '-a',
        PASSWORD,
        '--no-auth-warning',
        'ping',
      )
        .then((r) => r === 'PONG')
        .catch(() => false),
    'the TLS redis-server',
    { timeoutMs: 10_000, intervalMs: 100 },
  );
});

afterAll(async () => {
  for (const c of connections) await closeConnection(c);
  if (server && server.exitCode === null) {
    const exited = once(server, 'exit');
    server.kill('SIGKILL');
    await exited;
  }
});

const connect = (env: Record<string, string>, factory = createProducerConnection) => {
  const redis = factory({ ...redisTargetFor(loadConfig(env)), logger, name: 'cvm-tls-test' });
  connections.push(redis);
  return redis;
};

describe('rediss:// with a private CA and CVM_REDIS_PASSWORD', () => {
  it('connects over TLS, and BullMQ enqueues and processes through it', async () => {
    const env = {
      CVM_REDIS_URL: `rediss://127.0.0.1:${port}`,
      CVM_REDIS_PASSWORD: PASSWORD,
      CVM_REDIS_TLS_CA_FILE: file('ca.crt'),
    };
    const producer = connect(env);
    await waitForReady(producer, 5_000);
    const worker = connect(env, createWorkerConnection);
    const queue = new Queue('tls', { connection: producer, prefix: 'tls-test' });
    const processed: string[] = [];
    const consumer = new Worker(
      'tls',
      async (job) => {
        processed.push(job.name);
      },
      { connection: worker, prefix: 'tls-test' },
    );
    try {
      await queue.add('over-tls', {});
      await waitFor(() => processed.includes('over-tls'), 'the job to be processed', {
        timeoutMs: 10_000,
      });
    } finally {
      await consumer.close();
      await queue.close();
    }
  });

  it.each([
    ['without the CA (the certificate is not trusted)', { password: PASSWORD, ca: false }],
    ['with a wrong password', { password: 'not-the-password', ca: true }],
  ])('does not get ready %s', async (_, { password, ca }) => {
    const producer = connect({
      CVM_REDIS_URL: `rediss://127.0.0.1:${port}`,
      CVM_REDIS_PASSWORD: password,
      ...(ca ? { CVM_REDIS_TLS_CA_FILE: file('ca.crt') } : {}),
    });
    await expect(waitForReady(producer, 1_500)).rejects.toThrow(/not ready/);
  });
});
