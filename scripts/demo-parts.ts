// The processes `npm run demo` starts besides the emulator and docker-registry: what the machine
// must provide, Redis (the machine's or a private one) and `cvm serve` as a child process.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { TestRedisServer, pingOnce } from '../test/support/redis-server.js';

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

const onPath = (command: string): boolean =>
  spawnSync('/bin/sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;

/** What the demo needs on the machine, and how a newcomer gets each one. */
const TOOLS = [
  {
    command: 'kubectl',
    why: 'talks to the Kubernetes emulator',
    how: 'install kubectl: https://kubernetes.io/docs/tasks/tools/ (the CI machine image has it)',
  },
  {
    command: 'docker-registry',
    why: 'the local registry that tells cvm about pushes',
    how: 'sudo apt-get install docker-registry',
  },
  { command: 'skopeo', why: 'pushes the sample images', how: 'sudo apt-get install skopeo' },
  { command: 'tar', why: 'builds the sample image layers', how: 'sudo apt-get install tar' },
];

/** Problems that stop the demo before it starts anything, one line each; empty when all is there. */
export function missingTools(): string[] {
  return TOOLS.filter((t) => !onPath(t.command)).map(
    (t) => `${t.command} is not installed (${t.why}): ${t.how}`,
  );
}

/** Why no Redis can be had (none on 127.0.0.1:6379, no redis-server to start), else undefined. */
export async function redisProblem(): Promise<string | undefined> {
  if ((await redisAnswers(6379)) || onPath('redis-server')) return undefined;
  return (
    'Redis: nothing answers on 127.0.0.1:6379 and redis-server is not installed: ' +
    'sudo apt-get install redis-server (or start Redis on 127.0.0.1:6379)'
  );
}

/** True when something on 127.0.0.1:`port` answers a Redis PING within 500 ms. */
export const redisAnswers = (port: number): Promise<boolean> => pingOnce(port);

export interface DemoRedis {
  url: string;
  /** How it reads in the demo's output. */
  description: string;
  /** Port of a private redis-server the demo started (closed afterwards); undefined otherwise. */
  privatePort?: number;
  /** Deletes the demo's keys (machine Redis) or stops the private server. */
  stop(): Promise<void>;
}

/**
 * The machine's Redis on 127.0.0.1:6379 when it answers (the demo's keys all start with `prefix:`
 * and are deleted at the end), else a private `redis-server` on a free port, else undefined.
 */
export async function chooseRedis(prefix: string): Promise<DemoRedis | undefined> {
  if (await redisAnswers(6379)) {
    const url = 'redis://127.0.0.1:6379';
    return {
      url,
      description: `${url} (this machine's Redis; the demo's keys start with ${prefix}: and are deleted at the end)`,
      stop: () => deleteKeys(url, `${prefix}:*`),
    };
  }
  if (!onPath('redis-server')) return undefined;
  const server = await TestRedisServer.start();
  return {
    url: server.url,
    description: `${server.url} (a private redis-server the demo started; nothing answered on 6379)`,
    privatePort: server.port,
    stop: () => server.kill(),
  };
}

async function deleteKeys(url: string, pattern: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** One JSON log line of cvm (pino): `msg` plus whatever fields the call added. */
export type CvmLogLine = { msg: string; level: number; time: number } & Record<string, unknown>;

/**
 * `cvm serve` as a child process (`node --import tsx src/cli/main.ts serve`) in its own process
 * group, so a Ctrl-C in the terminal reaches only the demo, which stops it in order. Its JSON log
 * lines go to the listeners; the last ones are kept for error reports.
 */
export class CvmServe {
  readonly recent: string[] = [];
  #listeners = new Set<(line: CvmLogLine) => void>();
  #exited: Promise<number | null>;

  private constructor(private readonly child: ChildProcess) {
    this.#exited = once(child, 'exit').then(([code]) => code as number | null);
    let partial = '';
    const take = (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const text of lines.filter(Boolean)) {
        this.recent.push(text);
        if (this.recent.length > 40) this.recent.shift();
        let line: CvmLogLine | undefined;
        try {
          line = JSON.parse(text) as CvmLogLine;
        } catch {
          continue;
        }
        for (const listener of this.#listeners) listener(line);
      }
    };
    child.stdout?.on('data', take);
    child.stderr?.on('data', take);
  }

  static start(env: Record<string, string>): CvmServe {
    // The user's own CVM_* variables would change what the demo shows (or stop cvm): left out.
    const inherited = Object.fromEntries(
      Object.entries(process.env).filter(([key]) => !key.startsWith('CVM_')),
    );
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve'], {
      cwd: REPO_ROOT,
      env: { ...inherited, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    return new CvmServe(child);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Calls `listener` with every log line from now on; returns the unsubscribe function. */
  onLog(listener: (line: CvmLogLine) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Resolves with the first log line (from now on) that `match` accepts. */
  nextLog(match: (line: CvmLogLine) => boolean): Promise<CvmLogLine> {
    return new Promise((resolve) => {
      const off = this.onLog((line) => {
        if (!match(line)) return;
        off();
        resolve(line);
      });
    });
  }

  /** Resolves when the process ended, with its exit code (null when a signal ended it). */
  exited(): Promise<number | null> {
    return this.#exited;
  }

  /** SIGTERM (cvm's graceful stop), SIGKILL after `graceMs`; resolves once it exited. */
  async stop(graceMs = 15_000): Promise<'stopped' | 'killed'> {
    if (!this.running) return 'stopped';
    this.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(resolve, graceMs, 'late')));
    const outcome = await Promise.race([this.#exited.then(() => 'exited' as const), late]);
    clearTimeout(timer);
    if (outcome === 'exited') return 'stopped';
    this.child.kill('SIGKILL');
    await this.#exited;
    return 'killed';
  }

  /** SIGKILL now (a second Ctrl-C). */
  kill(): void {
    if (this.running) this.child.kill('SIGKILL');
  }
}
