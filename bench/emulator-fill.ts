// Benchmark "emulator fill" (issue 16): the Kubernetes emulator must take writes at a constant
// rate as it fills. 10 000 ContainerVersions, each with its Deployment (replicas 1, pods ready
// after 1 emulated second) in its own namespace, are POSTed over HTTP, 24 requests in flight, in
// five rounds of 2 000. The figure is the rate of the last round in objects/s; its baseline is the
// rate of the first round in the same run.
//
// The emulator runs as its own process (`npm run kube-emulator`), as cvm's e2e stacks and a real
// apiserver do: the client's JSON work does not share its event loop, so the rate is the
// emulator's (its controllers creating ReplicaSets and Pods included). BENCH_EMULATOR_PROFILE_DIR
// makes it write a --cpu-prof there.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { freePort } from '../test/support/redis-server.js';
import { waitFor } from '../test/support/wait-for.js';
import { fillEmulator } from './fill-emulator.js';

const MAIN = fileURLToPath(new URL('../test/kube-emulator/main.ts', import.meta.url));

export interface EmulatorFillOptions {
  /** CVs (and Deployments) in all; default 10 000. */
  cvs?: number;
  /** CVs a round; default 2 000. */
  round?: number;
  /** POSTs in flight; default 24. */
  concurrency?: number;
  /** CVs a namespace holds; default 1. */
  perNamespace?: number;
  /** A directory for the emulator's --cpu-prof; none by default. */
  profileDir?: string;
}

export interface EmulatorFillResult {
  cvs: number;
  /** Objects/s of each round, in order. */
  rates: number[];
  /** ms of each round. */
  roundMs: number[];
  totalMs: number;
  /** Emulator RSS at the end, MiB. */
  rssMiB: number;
}

/** Starts the emulator as a child process; resolves with its URL once it listens. */
async function startEmulatorProcess(
  profileDir: string | undefined,
): Promise<{ proc: ChildProcess; url: string }> {
  const port = await freePort();
  const proc = spawn(
    process.execPath,
    [
      ...(profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : []),
      '--import',
      'tsx',
      MAIN,
      '--port',
      String(port),
      '--pod-ready-seconds',
      '1',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  proc.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  try {
    await waitFor(() => out.includes('kube-emulator listening on'), 'the kube-emulator to start', {
      timeoutMs: 30_000,
    });
  } catch (error) {
    proc.kill('SIGTERM');
    throw new Error(`${String(error)}\n${out}`);
  }
  return { proc, url: `http://127.0.0.1:${port}` };
}

function rssOf(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const line = status.split('\n').find((l) => l.startsWith('VmRSS:'));
    return Number(line?.split(/\s+/)[1] ?? NaN) / 1024;
  } catch {
    return NaN;
  }
}

/** Fills an emulator process round by round and reports each round's creation rate. */
export async function emulatorFill(options: EmulatorFillOptions = {}): Promise<EmulatorFillResult> {
  const o = { cvs: 10_000, round: 2_000, concurrency: 24, perNamespace: 1, ...options };
  const { proc, url } = await startEmulatorProcess(o.profileDir);
  try {
    const rates: number[] = [];
    const roundMs: number[] = [];
    const began = Date.now();
    for (let from = 0; from < o.cvs; from += o.round) {
      const r = await fillEmulator(
        { url },
        {
          cvs: Math.min(o.round, o.cvs - from),
          from,
          perNamespace: o.perNamespace,
          concurrency: o.concurrency,
        },
      );
      roundMs.push(r.ms);
      rates.push((r.objects / r.ms) * 1000);
      if (process.env.BENCH_DEBUG)
        console.error(`emulator.fill: ${from + r.cvs.length} CVs, round ${r.ms} ms`);
    }
    return { cvs: o.cvs, rates, roundMs, totalMs: Date.now() - began, rssMiB: rssOf(proc.pid) };
  } finally {
    if (proc.exitCode === null) {
      proc.kill('SIGTERM');
      await once(proc, 'exit');
    }
  }
}
