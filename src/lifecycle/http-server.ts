import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Runnable } from './runnable.js';

export interface HttpServerOptions {
  name: string;
  port: number;
  /** Default 0.0.0.0 (in a pod); tests use 127.0.0.1. */
  host?: string;
  handler: RequestListener;
  /** Time in-flight requests get to finish on stop before their connections are closed. */
  drainTimeoutMs?: number;
}

/** A node:http server as a Runnable: `start()` resolves once it listens; `stop()` drains, then closes. */
export class HttpServer implements Runnable {
  readonly name: string;
  #server: Server | undefined;
  #stopping: Promise<void> | undefined;

  constructor(private readonly options: HttpServerOptions) {
    this.name = options.name;
  }

  /** The port it listens on (the real one when started with port 0). */
  get port(): number {
    const address = this.#server?.address() as AddressInfo | null | undefined;
    if (!address) throw new Error(`${this.name} is not listening`);
    return address.port;
  }

  get url(): string {
    return `http://${this.options.host ?? '127.0.0.1'}:${this.port}`;
  }

  async start(): Promise<void> {
    const server = createServer(this.options.handler);
    server.keepAliveTimeout = 65_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host ?? '0.0.0.0', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.#server = server;
  }

  stop(): Promise<void> {
    this.#stopping ??= this.#close();
    return this.#stopping;
  }

  async #close(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    server.closeIdleConnections();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    const timer = setTimeout(
      () => server.closeAllConnections(),
      this.options.drainTimeoutMs ?? 5_000,
    );
    await closed;
    clearTimeout(timer);
  }
}
