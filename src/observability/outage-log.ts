import type { Logger } from './logger.js';

/** Most distinct error messages one outage remembers; further ones are counted together. */
const MAX_DISTINCT = 50;

/**
 * Logs a failure that repeats (a Redis connection refused on every reconnect attempt, a poll tick
 * that fails every second) once per state change instead of once per attempt: the first error of
 * each distinct message at WARN, then nothing until {@link OutageLog.recovered}, which logs one INFO
 * line with how many failures there were and how long it lasted. STYLE.md: one line per state
 * change, not dozens a minute.
 */
export class OutageLog {
  readonly #seen = new Map<string, number>();
  #failures = 0;
  #sinceMs: number | undefined;

  constructor(
    private readonly log: Logger,
    private readonly messages: { failed: string; recovered: string },
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether a failure is open (logged, not yet recovered). */
  get failing(): boolean {
    return this.#sinceMs !== undefined;
  }

  /** One more failure: logged when its message is new in this outage, counted either way. */
  failed(error: unknown, fields: Record<string, unknown> = {}): void {
    const message = error instanceof Error ? error.message : String(error);
    this.#sinceMs ??= this.now();
    this.#failures += 1;
    const key = this.#seen.has(message) || this.#seen.size < MAX_DISTINCT ? message : '(other)';
    const count = this.#seen.get(key);
    this.#seen.set(key, (count ?? 0) + 1);
    if (count !== undefined) return;
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    this.log.warn({ ...fields, err: { message, ...(code ? { code } : {}) } }, this.messages.failed);
  }

  /** The failure ended: one line with the count and duration; nothing when none was open. */
  recovered(fields: Record<string, unknown> = {}): void {
    if (this.#sinceMs === undefined) return;
    this.log.info(
      { ...fields, failures: this.#failures, durationMs: this.now() - this.#sinceMs },
      this.messages.recovered,
    );
    this.#seen.clear();
    this.#failures = 0;
    this.#sinceMs = undefined;
  }
}
