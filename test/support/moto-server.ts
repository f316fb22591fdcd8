import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { freePort } from './redis-server.js';

/** Credentials and region moto accepts; set on clients, never taken from the environment. */
export const MOTO_AWS = {
  region: 'us-east-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
} as const;

/** A private `moto_server` (Python moto, on the machine) on 127.0.0.1 and a free port. */
export class MotoServer {
  #process: ChildProcess | undefined;
  private constructor(readonly port: number) {}

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  static async start(): Promise<MotoServer> {
    const server = new MotoServer(await freePort());
    server.#process = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(server.port)], {
      stdio: 'ignore',
    });
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      try {
        const response = await fetch(`${server.endpoint}/moto-api/`);
        if (response.ok) return server;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    await server.stop();
    throw new Error('moto_server did not start');
  }

  async stop(): Promise<void> {
    const proc = this.#process;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = once(proc, 'exit');
    proc.kill('SIGTERM');
    await exited;
  }
}
