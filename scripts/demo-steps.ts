// The steps of a story told in the order they happened, whatever their source (a watch, a log).
import { DemoFailure } from './demo-failure.js';

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/**
 * What happened, in the order it happened: each step is told once, by one function, and the
 * functions run one after the other (a step that shows kubectl output holds the next one back).
 * Sources add steps synchronously; `tellAll` tells them until one of them calls `finish()`.
 */
export class DemoSteps {
  #told = new Set<string>();
  #queue: { key: string; tell: () => unknown }[] = [];
  #wake: (() => void) | undefined;
  #finished = false;

  add(key: string, tell: () => unknown): void {
    if (this.#told.has(key)) return;
    this.#told.add(key);
    this.#queue.push({ key, tell });
    this.#wake?.();
  }

  has(key: string): boolean {
    return this.#told.has(key);
  }

  /** The last step: tellAll returns after it. */
  finish(): void {
    this.#finished = true;
  }

  /**
   * Tells the steps as they come until finish(). A DemoFailure naming the last step and `state()`
   * when none comes within `timeoutMs`; a step that throws ends it with that error.
   */
  async tellAll(timeoutMs: number, state: () => string): Promise<void> {
    while (!this.#finished) {
      const next = this.#queue.shift() ?? (await this.#next(timeoutMs, state));
      await next.tell();
    }
  }

  #next(timeoutMs: number, state: () => string): Promise<{ key: string; tell: () => unknown }> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#wake = undefined;
        reject(
          new DemoFailure(
            `nothing happened for ${seconds(timeoutMs)} after ` +
              `${[...this.#told].at(-1) ?? 'the start'}; ${state()}`,
          ),
        );
      }, timeoutMs);
      this.#wake = () => {
        const next = this.#queue.shift();
        if (!next) return;
        clearTimeout(timer);
        this.#wake = undefined;
        resolve(next);
      };
    });
  }
}
