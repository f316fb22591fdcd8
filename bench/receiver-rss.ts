// Benchmark "receiver.rss" (DESIGN §9, issue 16): MiB RSS of a compiled `cvm receiver` idle (after
// start, settled) and after a delivery of 10,000 events (10,000 signed generic webhooks, each a
// distinct event), against a bare `node -e` process idle.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import {
  GENERIC_SECRET,
  SERVER_CPU,
  dropPrefix,
  ensureBuilt,
  jobsOf,
  runLoad,
  settledRssMiB,
  startReceiver,
} from './ingest-support.js';

export interface ReceiverRssOptions {
  /** Events delivered before the second reading; default 10,000. */
  events?: number;
  /** Milliseconds a process is left alone before its RSS is read; default 2000. */
  settleMs?: number;
}

export interface ReceiverRssResult {
  idleMiB: number;
  afterLoadMiB: number;
  bareNodeMiB: number;
  events: number;
  accepted: number;
  jobs: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Idle RSS of `node -e` doing nothing, on the same core. */
async function bareNodeRssMiB(settleMs: number): Promise<number> {
  const proc = spawn(
    'taskset',
    ['-c', SERVER_CPU, process.execPath, '-e', 'setInterval(() => undefined, 1000)'],
    { stdio: 'ignore' },
  );
  try {
    await sleep(settleMs);
    return await settledRssMiB(proc.pid!);
  } finally {
    const exited = once(proc, 'exit');
    proc.kill('SIGTERM');
    await exited;
  }
}

/** Measures what the module comment says. */
export async function receiverRss(options: ReceiverRssOptions = {}): Promise<ReceiverRssResult> {
  const events = options.events ?? 10_000;
  const settleMs = options.settleMs ?? 2_000;
  ensureBuilt();
  const bareNodeMiB = await bareNodeRssMiB(settleMs);
  const prefix = `bench-rss-${randomUUID().slice(0, 8)}`;
  const receiver = await startReceiver(prefix);
  try {
    await sleep(settleMs);
    // `taskset` execs node, so the child's pid is the receiver's.
    const idleMiB = await settledRssMiB(receiver.proc.pid!);
    const load = await runLoad({
      origin: `http://127.0.0.1:${receiver.port}`,
      route: 'generic',
      secret: GENERIC_SECRET,
      connections: 50,
      durationSeconds: 30,
      amount: events,
    });
    await sleep(settleMs);
    const afterLoadMiB = await settledRssMiB(receiver.proc.pid!);
    return {
      idleMiB,
      afterLoadMiB,
      bareNodeMiB,
      events,
      accepted: load.statuses['202'] ?? 0,
      jobs: await jobsOf(prefix),
    };
  } finally {
    await receiver.stop();
    await dropPrefix(prefix).catch(() => undefined);
  }
}
