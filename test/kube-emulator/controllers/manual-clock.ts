import type { EmulatorClock } from '../contract.js';

interface Timer {
  dueMs: number;
  seq: number;
  callback: () => void;
}

/**
 * A test clock that only moves when told: timers run in (due time, scheduling order), so a
 * simulation is deterministic. `runFor` is bounded, so a controller that never settles fails the
 * test instead of hanging it.
 */
export class ManualClock implements EmulatorClock {
  readonly timeScale = 1;
  private nowMs: number;
  private seq = 0;
  private timers: Timer[] = [];

  constructor(startMs = Date.parse('2026-11-27T20:00:00Z')) {
    this.nowMs = startMs;
  }

  now(): number {
    return this.nowMs;
  }

  setTimeout(callback: () => void, emulatedMs: number): { cancel(): void } {
    const timer: Timer = { dueMs: this.nowMs + Math.max(0, emulatedMs), seq: this.seq++, callback };
    this.timers.push(timer);
    return { cancel: () => void (this.timers = this.timers.filter((t) => t !== timer)) };
  }

  /** Runs every timer due within the next `ms`, then sets the time to now + `ms`. */
  runFor(ms: number, maxTimers = 100_000): void {
    const end = this.nowMs + ms;
    for (let i = 0; i < maxTimers; i++) {
      const next = this.nextDue();
      if (!next || next.dueMs > end) {
        this.nowMs = end;
        return;
      }
      this.timers = this.timers.filter((t) => t !== next);
      this.nowMs = Math.max(this.nowMs, next.dueMs);
      next.callback();
    }
    throw new Error(`ManualClock: more than ${maxTimers} timers within ${ms} ms`);
  }

  /** Pending timers (a stopped controller leaves none). */
  pending(): number {
    return this.timers.length;
  }

  private nextDue(): Timer | undefined {
    let best: Timer | undefined;
    for (const t of this.timers) {
      if (!best || t.dueMs < best.dueMs || (t.dueMs === best.dueMs && t.seq < best.seq)) best = t;
    }
    return best;
  }
}
