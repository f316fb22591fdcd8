import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from './redis-server.js';
import { waitFor } from './wait-for.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

export interface CvmProcess {
  proc: ChildProcess;
  /** Everything it printed so far (stdout and stderr). */
  output: () => string;
  /** The ops port it serves `/metrics` and the REST API on (127.0.0.1). */
  opsPort: number;
}

/**
 * Starts `cvm <role>` from source as a child process with `env` (CVM_* of the test's stack) and
 * a free ops port; resolves once it logged "cvm started". The caller kills it (`proc.kill`).
 */
export async function startCvmProcess(
  role: 'worker' | 'reconciler' | 'receiver' | 'serve',
  env: Record<string, string>,
  track: ChildProcess[],
  /** Extra node options before the script (e.g. `--cpu-prof`). */
  nodeArgs: string[] = [],
): Promise<CvmProcess> {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('CVM_')),
  );
  const opsPort = await freePort();
  const proc = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', MAIN, role], {
    env: {
      ...inherited,
      ...env,
      CVM_OPS_PORT: String(opsPort),
      CVM_LISTEN_HOST: '127.0.0.1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  track.push(proc);
  let out = '';
  proc.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  // Started through tsx, which compiles as it loads: seen taking over 20 s while the whole suite
  // runs on 2 cores.
  await waitFor(() => out.includes('"msg":"cvm started"'), `cvm ${role} to start`, {
    timeoutMs: 45_000,
  });
  return { proc, output: () => out, opsPort };
}
