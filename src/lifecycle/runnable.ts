/**
 * A long-running part of a process (an HTTP server, a queue worker, an informer). `start()` resolves
 * once it serves; `stop()` is idempotent and resolves once it released everything it held.
 */
export interface Runnable {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}
