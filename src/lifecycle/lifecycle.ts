import type { Logger } from '../observability/logger.js';
import type { Runnable } from './runnable.js';

export interface LifecycleOptions {
  logger: Logger;
  /** Total time `stop()` may take for all components together. */
  stopTimeoutMs: number;
}

export type StopResult = { clean: true } | { clean: false; failed: string[] };

const timeout = (ms: number) =>
  new Promise<'timeout'>((resolve) => {
    setTimeout(() => resolve('timeout'), ms).unref();
  });

/**
 * Starts components in the order they were added and stops them in reverse, so that what was
 * started last (intake: HTTP, SQS, informers) stops first, then workers drain, then connections
 * close. A component that fails or overruns the shared deadline is logged and skipped; the others
 * still stop.
 */
export class Lifecycle implements Runnable {
  readonly name = 'lifecycle';
  readonly #components: Runnable[] = [];
  readonly #started: Runnable[] = [];
  #stopping: Promise<StopResult> | undefined;

  constructor(private readonly options: LifecycleOptions) {}

  /** Adds a component; call before `start()`. Returns it for chaining at the composition root. */
  add<T extends Runnable>(component: T): T {
    this.#components.push(component);
    return component;
  }

  /** Starts every component in order. When one fails, the ones already started are stopped. */
  async start(): Promise<void> {
    for (const component of this.#components) {
      try {
        await component.start();
        this.#started.push(component);
        this.options.logger.debug({ component: component.name }, 'component started');
      } catch (error) {
        this.options.logger.error(
          { component: component.name, err: error },
          'component failed to start',
        );
        await this.stop();
        throw new Error(`${component.name} failed to start`, { cause: error });
      }
    }
  }

  /** Idempotent; concurrent calls share one stop. Resolves within `stopTimeoutMs` (plus a tick). */
  stop(): Promise<void> {
    return this.stopAll().then(() => undefined);
  }

  /** Like `stop()`, and says which components did not stop cleanly. */
  stopAll(): Promise<StopResult> {
    this.#stopping ??= this.#stopInOrder();
    return this.#stopping;
  }

  async #stopInOrder(): Promise<StopResult> {
    const deadline = Date.now() + this.options.stopTimeoutMs;
    const failed: string[] = [];
    for (const component of [...this.#started].reverse()) {
      const left = Math.max(0, deadline - Date.now());
      try {
        const outcome = await Promise.race([
          component.stop().then(() => 'stopped' as const),
          timeout(left),
        ]);
        if (outcome === 'timeout') {
          failed.push(component.name);
          this.options.logger.warn(
            { component: component.name, stopTimeoutMs: this.options.stopTimeoutMs },
            'component did not stop in time',
          );
        } else {
          this.options.logger.debug({ component: component.name }, 'component stopped');
        }
      } catch (error) {
        failed.push(component.name);
        this.options.logger.warn(
          { component: component.name, err: error },
          'component failed to stop',
        );
      }
    }
    this.#started.length = 0;
    return failed.length === 0 ? { clean: true } : { clean: false, failed };
  }
}
