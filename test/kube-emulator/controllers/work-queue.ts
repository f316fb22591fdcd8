import type { EmulatorClock } from '../contract.js';
import { StatusError } from '../contract.js';

/** A sync function; it may return emulated ms after which the same key must be synced again. */
export type SyncFunction = () => number | undefined | void;

/** Passes in one drain, so a controller that keeps re-queueing itself cannot spin forever. */
const maxSyncsPerDrain = 5_000;
const conflictRetryMs = 200;
const errorRetryMs = 1_000;

/**
 * The controllers' shared work queue, like client-go's: a key waits at most once, keys run in the
 * order they were added, and a drain runs on a clock timer of 0 ms, so store notifications never
 * re-enter a sync. A 409 Conflict or a 5xx retries after a delay; a 404 drops the key (the object
 * is gone and its deletion event will tell who cares).
 */
export class WorkQueue {
  private readonly waiting = new Map<string, SyncFunction>();
  private readonly timers = new Map<string, { dueMs: number; cancel(): void }>();
  private drain: { cancel(): void } | undefined;
  private stopped = false;

  constructor(private readonly clock: EmulatorClock) {}

  /** Queues `key` (dropped if already waiting; the waiting sync reads fresh state anyway). */
  add(key: string, sync: SyncFunction): void {
    if (this.stopped) return;
    if (!this.waiting.has(key)) this.waiting.set(key, sync);
    this.drain ??= this.clock.setTimeout(() => this.runDrain(), 0);
  }

  /** Queues `key` after `delayMs` emulated ms; of two pending delays for a key, the earlier wins. */
  addAfter(key: string, sync: SyncFunction, delayMs: number): void {
    if (this.stopped) return;
    const dueMs = this.clock.now() + delayMs;
    const pending = this.timers.get(key);
    if (pending && pending.dueMs <= dueMs) return;
    pending?.cancel();
    const timer = this.clock.setTimeout(() => {
      this.timers.delete(key);
      this.add(key, sync);
    }, delayMs);
    this.timers.set(key, { dueMs, cancel: () => timer.cancel() });
  }

  /** Cancels every timer and forgets every waiting key. Idempotent. */
  stop(): void {
    this.stopped = true;
    this.drain?.cancel();
    this.drain = undefined;
    for (const timer of this.timers.values()) timer.cancel();
    this.timers.clear();
    this.waiting.clear();
  }

  private runDrain(): void {
    this.drain = undefined;
    for (let i = 0; i < maxSyncsPerDrain && !this.stopped; i++) {
      const next = this.waiting.entries().next();
      if (next.done) return;
      const [key, sync] = next.value;
      this.waiting.delete(key);
      this.runOne(key, sync);
    }
    if (this.waiting.size > 0 && !this.stopped) {
      this.drain = this.clock.setTimeout(() => this.runDrain(), 10);
    }
  }

  private runOne(key: string, sync: SyncFunction): void {
    try {
      const again = sync();
      if (typeof again === 'number') this.addAfter(key, sync, again);
    } catch (error) {
      if (error instanceof StatusError && error.code === 404) return;
      if (error instanceof StatusError && error.code === 409) {
        this.addAfter(key, sync, conflictRetryMs);
        return;
      }
      if (!(error instanceof StatusError) || error.code < 500) {
        console.error(`kube-emulator controllers: sync of ${key} failed`, error);
      }
      this.addAfter(key, sync, errorRetryMs);
    }
  }
}
