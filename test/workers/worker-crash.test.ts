import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  containerVersion,
  deployment,
  namespace,
  startCvmStack,
  type CvmStack,
} from '../support/cvm-stack.js';
import { freePort } from '../support/redis-server.js';
import { waitFor } from '../support/wait-for.js';

const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
let stack: CvmStack;
const processes: ChildProcess[] = [];

beforeAll(async () => {
  // Pods take 30 emulated s (3 real s) to become ready, so a rollout is still running when its worker dies.
  stack = await startCvmStack({
    workers: false,
    podReadySeconds: 30,
    env: { CVM_JOB_LOCK_MS: '2000', CVM_STALLED_CHECK_MS: '1000' },
  });
}, 60_000);

afterAll(async () => {
  for (const p of processes) if (p.exitCode === null) p.kill('SIGKILL');
  await stack?.stop();
});

async function startWorker(): Promise<{ proc: ChildProcess; output: () => string }> {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('CVM_')),
  );
  const proc = spawn(process.execPath, ['--import', 'tsx', main, 'worker'], {
    env: {
      ...env,
      ...stack.env,
      CVM_OPS_PORT: String(await freePort()),
      CVM_LISTEN_HOST: '127.0.0.1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  processes.push(proc);
  let out = '';
  proc.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  await waitFor(() => out.includes('"msg":"cvm started"'), 'the worker to start', {
    timeoutMs: 20_000,
  });
  return { proc, output: () => out };
}

describe('a worker killed in the middle of a rollout', () => {
  it('another worker takes the job over and finishes it, with one history entry', async () => {
    await stack.apply([
      namespace('crash'),
      deployment('crash', 'api', 'example.com/old/api:1', { replicas: 2 }),
    ]);
    await stack.apply([
      containerVersion('crash', 'api', {
        imageRepo: stack.repo,
        tag: 'crash',
        versionPattern: '^sha-[0-9a-f]{7}$',
        selector: { app: 'api' },
        container: 'api',
        pollIntervalSeconds: 0,
      }),
    ]);
    const first = await startWorker();
    const digest = stack.push(['sha-c000001', 'crash']);
    // The rollout started and patched the Deployment, and is waiting for its pods.
    await waitFor(
      async () =>
        (await stack.containerVersion('crash', 'api')).status?.lastRollout?.result ===
        'Progressing',
      'the rollout to start',
      { timeoutMs: 20_000 },
    );
    await waitFor(
      async () => JSON.stringify((await stack.deployment('crash', 'api')).spec).includes(digest),
      'the patch',
    );
    first.proc.kill('SIGKILL');
    await once(first.proc, 'exit');
    expect((await stack.containerVersion('crash', 'api')).status.lastRollout.result).toBe(
      'Progressing',
    );

    const second = await startWorker();
    const cv = await stack.rolloutOf('crash', 'api', digest, 60_000);
    expect(cv.status.lastRollout).toMatchObject({ result: 'Succeeded', version: 'sha-c000001' });
    expect(second.output()).toContain('resuming rollout');
    const history = await stack.history('crash', 'api');
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({ digest, result: 'Succeeded' });
    second.proc.kill('SIGTERM');
    const [code] = (await once(second.proc, 'exit')) as [number | null];
    expect(code).toBe(0);
  }, 120_000);
});
