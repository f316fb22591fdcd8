import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import bcrypt from 'bcryptjs';
import { stringify } from 'yaml';
import { freePort } from './redis-server.js';

export interface DockerRegistryOptions {
  /** Require Basic auth (`auth: htpasswd`) for this one user; the bcrypt hash is written here. */
  htpasswd?: { username: string; password: string };
  /** Require bearer tokens (`auth: token`) from a token service (see `token-service.ts`). */
  token?: { realm: string; service: string; issuer: string; rootCertBundle: string };
}

export interface RegistryNotifications {
  /** Receiver URL the registry posts its notification envelopes to. */
  url: string;
  headers?: Record<string, string[]>;
}

/**
 * Debian's `docker-registry` (CNCF Distribution 2.8) on 127.0.0.1 and a free port, storing in a temp
 * directory, optionally with a notifications endpoint. Stopped by its PID.
 */
export class DockerRegistry {
  #process: ChildProcess | undefined;
  #configPath = '';
  #acceptsUnauthenticated = true;
  private constructor(readonly port: number) {}

  /** The registry's stdout: its access log, a line per request, kept across restarts. */
  get #accessLogPath(): string {
    return join(dirname(this.#configPath), 'stdout.log');
  }

  get #stderrPath(): string {
    return join(dirname(this.#configPath), 'stderr.log');
  }

  /** Where the registry keeps its data (the filesystem driver's root directory). */
  get storageRoot(): string {
    return join(dirname(this.#configPath), 'data');
  }

  /** `127.0.0.1:<port>`, the registry host in image references and events. */
  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  static async start(
    notifications?: RegistryNotifications,
    options: DockerRegistryOptions = {},
  ): Promise<DockerRegistry> {
    const registry = new DockerRegistry(await freePort());
    const dir = mkdtempSync(join(tmpdir(), 'cvm-registry-'));
    const config = {
      version: 0.1,
      log: { level: 'warn', accesslog: { disabled: false } },
      storage: { filesystem: { rootdirectory: join(dir, 'data') }, delete: { enabled: true } },
      http: { addr: registry.host, secret: 'test-secret' },
      ...(options.htpasswd
        ? { auth: { htpasswd: { realm: 'cvm-test', path: htpasswdFile(dir, options.htpasswd) } } }
        : {}),
      ...(options.token
        ? {
            auth: {
              token: {
                realm: options.token.realm,
                service: options.token.service,
                issuer: options.token.issuer,
                rootcertbundle: options.token.rootCertBundle,
              },
            },
          }
        : {}),
      ...(notifications
        ? {
            notifications: {
              endpoints: [
                {
                  name: 'cvm',
                  url: notifications.url,
                  headers: notifications.headers ?? {},
                  timeout: '2s',
                  threshold: 5,
                  backoff: '500ms',
                },
              ],
            },
          }
        : {}),
    };
    const configPath = join(dir, 'config.yml');
    writeFileSync(configPath, stringify(config));
    registry.#configPath = configPath;
    registry.#acceptsUnauthenticated = !options.htpasswd && !options.token;
    await registry.resume();
    return registry;
  }

  /**
   * Starts the registry again after {@link stop}, on the same port with the same storage: a
   * registry outage that ends. Resolves once it answers. A no-op while it runs (a second process
   * could not bind the port, and the running one would be left without an owner).
   */
  async resume(): Promise<void> {
    const running = this.#process;
    if (running && running.exitCode === null && running.signalCode === null) return;
    // Its output goes to files, not pipes: a test blocked in a synchronous skopeo push reads no
    // pipe, and a full pipe would stop the registry's logging, and so the push, until it timed out.
    const out = openSync(this.#accessLogPath, 'a');
    const err = openSync(this.#stderrPath, 'a');
    try {
      this.#process = spawn('docker-registry', ['serve', this.#configPath], {
        stdio: ['ignore', out, err],
      });
    } finally {
      closeSync(out);
      closeSync(err);
    }
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      try {
        const { status } = await fetch(`http://${this.host}/v2/`);
        // With auth the unauthenticated probe is answered with a challenge: that is "up" too.
        if (status === 200 || (!this.#acceptsUnauthenticated && status === 401)) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    await this.stop();
    throw new Error(
      `docker-registry did not start: ${readFileSync(this.#stderrPath, 'utf8').slice(-500)}`,
    );
  }

  /**
   * Requests the registry itself logged (its access log), optionally only those whose request
   * line matches: what cvm cost the registry, counted at the registry.
   */
  requests(filter?: RegExp): { method: string; path: string; userAgent: string; at: string }[] {
    return readFileSync(this.#accessLogPath, 'utf8')
      .split('\n')
      .map((line) => /\[([^\]]+)\] "(\w+) (\S+) [^"]*" \d+ \d+ "[^"]*" "([^"]*)"/.exec(line))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ at: m[1]!, method: m[2]!, path: m[3]!, userAgent: m[4]! }))
      .filter((r) => !filter || filter.test(`${r.method} ${r.path}`));
  }

  async stop(): Promise<void> {
    const proc = this.#process;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = once(proc, 'exit');
    proc.kill('SIGTERM');
    await exited;
  }
}

function htpasswdFile(dir: string, user: { username: string; password: string }): string {
  const path = join(dir, 'htpasswd');
  // docker-registry accepts bcrypt only; bcryptjs writes `$2b$`, which Go's bcrypt reads.
  writeFileSync(path, `${user.username}:${bcrypt.hashSync(user.password, 8)}\n`);
  return path;
}
