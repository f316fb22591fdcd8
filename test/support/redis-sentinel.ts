import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { TestRedisServer, freePort, pingOnce } from './redis-server.js';
import { waitFor } from './wait-for.js';

const run = promisify(execFile);

/** `redis-cli -p <port> <args…>` on 127.0.0.1, bounded; its trimmed output. */
export async function redisCli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], {
    timeout: 5_000,
  });
  return stdout.trim();
}

/**
 * A private Sentinel-managed Redis on 127.0.0.1: one primary and `replicas` replicas (AOF on, each
 * in a temp dir of its own) and three Debian `redis-sentinel`s (quorum 2) that declare the primary
 * down after 1 s. Every process is ended by its PID.
 */
export class RedisSentinelGroup {
  readonly masterName = 'cvm';
  readonly servers: TestRedisServer[] = [];
  readonly sentinelPorts: number[] = [];
  readonly #sentinels: ChildProcess[] = [];

  static async start(replicas = 2): Promise<RedisSentinelGroup> {
    const group = new RedisSentinelGroup();
    try {
      await group.#start(replicas);
    } catch (error) {
      await group.stop();
      throw error;
    }
    return group;
  }

  async #start(replicas: number): Promise<void> {
    const primary = await TestRedisServer.start({ appendOnly: true });
    this.servers.push(primary);
    for (let i = 0; i < replicas; i++)
      this.servers.push(
        await TestRedisServer.start({
          appendOnly: true,
          args: ['--replicaof', '127.0.0.1', String(primary.port)],
        }),
      );
    await waitFor(
      async () =>
        (await redisCli(primary.port, 'info', 'replication')).includes(
          `connected_slaves:${replicas}`,
        ),
      'the replicas to connect',
      { timeoutMs: 15_000, intervalMs: 100 },
    );
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      const dir = mkdtempSync(join(tmpdir(), 'cvm-sentinel-'));
      const conf = join(dir, 'sentinel.conf');
      // Sentinel rewrites its config file (what it learnt), so each has its own, writable.
      writeFileSync(
        conf,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir ${dir}`,
          `sentinel monitor ${this.masterName} 127.0.0.1 ${primary.port} 2`,
          `sentinel down-after-milliseconds ${this.masterName} 1000`,
          `sentinel failover-timeout ${this.masterName} 10000`,
          `sentinel parallel-syncs ${this.masterName} 1`,
          '',
        ].join('\n'),
      );
      this.#sentinels.push(spawn('redis-sentinel', [conf], { stdio: 'ignore' }));
      this.sentinelPorts.push(port);
      await waitFor(() => pingOnce(port), `redis-sentinel on ${port}`, { timeoutMs: 10_000 });
    }
    // Each sentinel has found the replicas and the other sentinels: a failover can be agreed on.
    for (const port of this.sentinelPorts)
      await waitFor(
        async () => {
          const fields = (await redisCli(port, 'sentinel', 'master', this.masterName)).split('\n');
          const field = (name: string) => fields[fields.indexOf(name) + 1];
          return field('num-slaves') === String(replicas) && field('num-other-sentinels') === '2';
        },
        `sentinel ${port} to know the replicas and the other sentinels`,
        { timeoutMs: 20_000, intervalMs: 200 },
      );
  }

  /** `127.0.0.1:p,…`, the value of CVM_REDIS_SENTINELS. */
  get sentinels(): string {
    return this.sentinelPorts.map((p) => `127.0.0.1:${p}`).join(',');
  }

  /** The port of the primary the sentinels name now. */
  async primaryPort(): Promise<number> {
    const reply = await redisCli(
      this.sentinelPorts[0]!,
      'sentinel',
      'get-master-addr-by-name',
      this.masterName,
    );
    return Number(reply.split('\n')[1]);
  }

  /** The server that is the primary now. */
  async primary(): Promise<TestRedisServer> {
    const port = await this.primaryPort();
    const server = this.servers.find((s) => s.port === port);
    if (!server) throw new Error(`no server on the primary's port ${port}`);
    return server;
  }

  /**
   * kill -9 of the primary; resolves once the sentinels promoted a replica and it accepts writes,
   * with the new primary's port.
   */
  async killPrimary(timeoutMs = 30_000): Promise<{ old: number; promoted: number }> {
    const old = await this.primary();
    await old.kill();
    const promoted = await waitFor(
      async () => {
        const port = await this.primaryPort().catch(() => old.port);
        if (port === old.port) return undefined;
        const role = await redisCli(port, 'role').catch(() => '');
        return role.startsWith('master') ? port : undefined;
      },
      'a replica to be promoted',
      { timeoutMs, intervalMs: 100 },
    );
    return { old: old.port, promoted };
  }

  async stop(): Promise<void> {
    for (const sentinel of this.#sentinels) {
      if (sentinel.exitCode !== null || sentinel.signalCode !== null) continue;
      const exited = once(sentinel, 'exit');
      sentinel.kill('SIGKILL');
      await exited;
    }
    for (const server of this.servers) await server.kill();
  }
}
