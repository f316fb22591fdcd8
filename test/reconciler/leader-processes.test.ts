import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { containerVersion, namespace, startCvmStack, type CvmStack } from '../support/cvm-stack.js';
import { freePort } from '../support/redis-server.js';
import { waitFor } from '../support/wait-for.js';

const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
let stack: CvmStack;
const processes: ChildProcess[] = [];

beforeAll(async () => {
  stack = await startCvmStack({ workers: false, notifications: false });
}, 60_000);

afterAll(async () => {
  for (const p of processes) if (p.exitCode === null) p.kill('SIGKILL');
  await stack?.stop();
});

interface Reconciler {
  proc: ChildProcess;
  leadingAt: () => number | undefined;
}

async function startReconciler(): Promise<Reconciler> {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('CVM_')),
  );
  const proc = spawn(process.execPath, ['--import', 'tsx', main, 'reconciler'], {
    env: {
      ...env,
      ...stack.env,
      CVM_OPS_PORT: String(await freePort()),
      CVM_LISTEN_HOST: '127.0.0.1',
      CVM_LEASE_DURATION_SECONDS: '3',
      CVM_POLL_TICK_MS: '200',
      CVM_LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  processes.push(proc);
  let leadingAt: number | undefined;
  proc.stdout?.on('data', (chunk: Buffer) => {
    if (leadingAt === undefined && chunk.toString().includes('"msg":"leading: reconciler started"'))
      leadingAt = Date.now();
  });
  return { proc, leadingAt: () => leadingAt };
}

const headTimes = () =>
  stack.registry.requests(/^HEAD \/v2\/team\/api\/manifests\/lead$/).map((r) => r.at);

describe('two cvm reconciler processes', () => {
  it('one leads; after SIGKILL the other leads within the lease duration; no target is polled twice', async () => {
    stack.push(['lead']);
    await stack.apply([
      namespace('lead'),
      containerVersion('lead', 'api', {
        imageRepo: stack.repo,
        tag: 'lead',
        selector: { app: 'none' },
        container: 'api',
        pollIntervalSeconds: 2,
      }),
    ]);
    const a = await startReconciler();
    const b = await startReconciler();
    const first = await waitFor(
      () => (a.leadingAt() ? a : b.leadingAt() ? b : undefined),
      'a leader',
      { timeoutMs: 30_000 },
    );
    const second = first === a ? b : a;
    await waitFor(() => headTimes().length >= 2, 'two polls by the leader', { timeoutMs: 20_000 });
    expect(second.leadingAt()).toBeUndefined();

    const killedAt = Date.now();
    first.proc.kill('SIGKILL');
    await once(first.proc, 'exit');
    await waitFor(() => second.leadingAt(), 'the other process to lead', { timeoutMs: 15_000 });
    const takeoverMs = second.leadingAt()! - killedAt;
    expect(takeoverMs).toBeLessThan(3_000 + 2_500); // lease duration + one retry interval with jitter

    const pollsBefore = headTimes().length;
    await waitFor(() => headTimes().length >= pollsBefore + 2, 'polls by the new leader', {
      timeoutMs: 20_000,
    });
    // Polls are at least the 2 s interval apart (the access log has 1 s resolution): never twice in one second.
    const times = headTimes();
    expect(new Set(times).size).toBe(times.length);
  }, 120_000);
});
