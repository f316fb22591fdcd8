// What the ingest and receiver-RSS benchmarks share: the compiled `cvm receiver` as a child
// process pinned to a core, the bare express baseline on the same core, the load generator on the
// other core, RSS of a process, and the jobs a run left in Redis.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { freePort } from '../test/support/redis-server.js';
import { waitFor } from '../test/support/wait-for.js';
import type { LoadResult, LoadSpec } from './ingest-load.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const REDIS = { host: '127.0.0.1', port: 6379 };
/** The core the server under test runs on; the load generator takes the other one. */
export const SERVER_CPU = '0';
export const LOAD_CPU = '1';
export const GENERIC_SECRET = 'bench-generic-secret-0123456789';
export const DOCKERHUB_TOKEN = 'bench-dockerhub-token-0123456789';

function newestMtimeMs(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(
      newest,
      entry.isDirectory()
        ? newestMtimeMs(path)
        : entry.name.endsWith('.ts')
          ? statSync(path).mtimeMs
          : 0,
    );
  }
  return newest;
}

/**
 * Compiles `src` to `dist` (as `npm ci` does) when a source file is newer than the build: the
 * benchmarks run `bin/cvm.js`, the process users run, not the sources through tsx (whose loader
 * alone adds tens of MiB).
 */
export function ensureBuilt(): void {
  let built = 0;
  try {
    built = statSync(join(ROOT, 'dist/cli/main.js')).mtimeMs;
  } catch {
    built = 0;
  }
  if (newestMtimeMs(join(ROOT, 'src')) <= built) return;
  console.error('bench: compiling src to dist (npm run build)…');
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
}

/** A child process the benchmark started, and what it printed. */
export interface ServerProcess {
  proc: ChildProcess;
  port: number;
  output: () => string;
  stop: () => Promise<void>;
}

function track(proc: ChildProcess): () => string {
  let out = '';
  proc.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  return () => out;
}

const stopper = (proc: ChildProcess) => async () => {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = once(proc, 'exit');
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
};

/**
 * `cvm receiver` (compiled) on {@link SERVER_CPU}, with the generic and Docker Hub routes enabled
 * and a queue prefix of its own; resolves once it logged "cvm started".
 */
export async function startReceiver(prefix: string): Promise<ServerProcess> {
  const port = await freePort();
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('CVM_')),
  );
  const proc = spawn(
    'taskset',
    ['-c', SERVER_CPU, process.execPath, join(ROOT, 'bin/cvm.js'), 'receiver'],
    {
      cwd: ROOT,
      env: {
        ...inherited,
        CVM_REDIS_URL: `redis://${REDIS.host}:${REDIS.port}`,
        CVM_QUEUE_PREFIX: prefix,
        CVM_WEBHOOK_PORT: String(port),
        CVM_OPS_PORT: String(await freePort()),
        CVM_LISTEN_HOST: '127.0.0.1',
        CVM_GENERIC_SECRETS: GENERIC_SECRET,
        CVM_DOCKERHUB_TOKENS: DOCKERHUB_TOKEN,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const output = track(proc);
  const server = { proc, port, output, stop: stopper(proc) };
  try {
    await waitFor(() => output().includes('"msg":"cvm started"'), 'cvm receiver to start', {
      timeoutMs: 20_000,
    });
  } catch (error) {
    await server.stop();
    throw new Error(`${(error as Error).message}\n${output()}`);
  }
  return server;
}

/** The baseline: a bare express JSON echo server (the project's express) on {@link SERVER_CPU}. */
export async function startEchoServer(): Promise<ServerProcess> {
  const port = await freePort();
  const script = `
    const express = require('express');
    const app = express();
    app.post('/{*path}', express.json(), (request, response) => response.json(request.body));
    app.listen(${port}, '127.0.0.1', () => console.log('listening'));`;
  const proc = spawn('taskset', ['-c', SERVER_CPU, process.execPath, '-e', script], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = track(proc);
  const server = { proc, port, output, stop: stopper(proc) };
  await waitFor(() => output().includes('listening'), 'the echo server to start', {
    timeoutMs: 10_000,
  });
  return server;
}

/** Runs the load generator on {@link LOAD_CPU} against `spec` and returns what it measured. */
export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const proc = spawn(
    'taskset',
    [
      '-c',
      LOAD_CPU,
      process.execPath,
      '--import',
      'tsx',
      join(ROOT, 'bench/ingest-load.ts'),
      JSON.stringify(spec),
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const output = track(proc);
  let stdout = '';
  proc.stdout?.on('data', (c: Buffer) => (stdout += c.toString()));
  const timer = setTimeout(() => proc.kill('SIGKILL'), (spec.durationSeconds + 60) * 1000);
  const [code] = (await once(proc, 'exit')) as [number | null];
  clearTimeout(timer);
  if (code !== 0) throw new Error(`load generator exited ${code}: ${output()}`);
  return JSON.parse(stdout.trim().split('\n').pop()!) as LoadResult;
}

/** CPU time (user + system) a process used so far, ms (/proc/<pid>/stat, 100 ticks a second). */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which is in parentheses and may hold spaces): utime is the 14th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Resident set size of a process, MiB (`VmRSS` of /proc/<pid>/status). */
export function rssMiB(pid: number): number {
  const line = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!line) throw new Error(`no VmRSS for ${pid}`);
  return Number(line[1]) / 1024;
}

/** RSS once it stopped moving: the median of `samples` readings `intervalMs` apart. */
export async function settledRssMiB(pid: number, samples = 5, intervalMs = 200): Promise<number> {
  const readings: number[] = [];
  for (let i = 0; i < samples; i++) {
    readings.push(rssMiB(pid));
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  return median(readings);
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Jobs on the `push-events` queue under `prefix` (no worker runs: all of them wait). */
export async function jobsOf(prefix: string): Promise<number> {
  const queue = new Queue('push-events', { connection: REDIS, prefix });
  try {
    const counts = await queue.getJobCounts(
      'wait',
      'active',
      'completed',
      'failed',
      'delayed',
      'prioritized',
    );
    return Object.values(counts).reduce((a, b) => a + b, 0);
  } finally {
    await queue.close();
  }
}

/** Removes every key a run wrote under `prefix`. */
export async function dropPrefix(prefix: string): Promise<void> {
  const queue = new Queue('push-events', { connection: REDIS, prefix });
  try {
    await queue.obliterate({ force: true });
  } finally {
    await queue.close();
  }
  const redis = new Redis(REDIS);
  try {
    await redis.del(`${prefix}:poll:events`);
  } finally {
    redis.disconnect();
  }
}
