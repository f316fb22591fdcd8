import type { ControllerOptions, StoreEvent } from '../contract.js';
import type { EventRecorder } from './event-recorder.js';
import type { WorkQueue } from './work-queue.js';

/** What every simulated controller gets: the options (defaults filled), the shared queue and the Event recorder. */
export interface ControllerContext extends ControllerOptions {
  crashing: (image: string) => boolean;
  crashAfterSeconds: number;
  queue: WorkQueue;
  recorder: EventRecorder;
}

/** A simulated controller: turns store events into queued syncs. */
export interface SimulatedController {
  /** Queues the syncs `event` calls for; never writes itself. */
  onEvent(event: StoreEvent): void;
  /** Queues a sync of every existing object it manages (at start). */
  resyncAll(): void;
  /** Cancels the controller's own timers, if any. */
  stop?(): void;
}
