import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A free TCP port on 127.0.0.1 (closed again before it is returned). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** True when something on 127.0.0.1:`port` answers a Redis PING within 500 ms. */
export async function pingOnce(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}

export interface TestRedisOptions {
  /** AOF on (`appendfsync always`, in a temp dir of its own): a restart keeps every write. */
  appendOnly?: boolean;
  /** More `redis-server` arguments (`--replicaof 127.0.0.1 6390`). */
  args?: string[];
}

/**
 * A private `redis-server` (the machine's binary) on its own port, for tests that stop and restart
 * Redis. Persistence off unless asked for; killed by its PID.
 */
export class TestRedisServer {
  #process: ChildProcess | undefined;
  readonly dir = mkdtempSync(join(tmpdir(), 'cvm-redis-'));
  constructor(
    readonly port: number,
    readonly options: TestRedisOptions = {},
  ) {}

  static async start(options: TestRedisOptions = {}): Promise<TestRedisServer> {
    const server = new TestRedisServer(await freePort(), options);
    await server.start();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /**
   * Starts it (again). `appendOnly` overrides the server's option for this start; a start without
   * persistence also deletes what an earlier start persisted, so Redis comes back empty.
   */
  async start(appendOnly = this.options.appendOnly ?? false): Promise<void> {
    if (!appendOnly) rmSync(join(this.dir, 'appendonlydir'), { recursive: true, force: true });
    const persistence = appendOnly
      ? ['--appendonly', 'yes', '--appendfsync', 'always']
      : ['--appendonly', 'no'];
    this.#process = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--dir',
        this.dir,
        '--save',
        '',
        ...persistence,
        ...(this.options.args ?? []),
      ],
      { stdio: 'ignore' },
    );
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (await pingOnce(this.port)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`redis-server on port ${this.port} did not answer PING`);
  }

  /** SIGKILL, as a crash would. */
  async kill(): Promise<void> {
    const proc = this.#process;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = once(proc, 'exit');
    proc.kill('SIGKILL');
    await exited;
  }
}
