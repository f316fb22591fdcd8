import type { Logger } from '../observability/logger.js';
import type { Lifecycle } from './lifecycle.js';

export interface SignalHandlerOptions {
  logger: Logger;
  /** Called with the exit code once stopping ended; `process.exit` in production. */
  exit: (code: number) => void;
  signals?: readonly NodeJS.Signals[];
}

/**
 * The process's one signal handler: the first SIGTERM/SIGINT stops the lifecycle (bounded by its
 * own timeout) and exits 0 when every component stopped cleanly, 1 otherwise; a second signal exits
 * 1 at once. Returns a function that removes the handlers.
 */
export function handleSignals(lifecycle: Lifecycle, options: SignalHandlerOptions): () => void {
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  let received: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (received) {
      options.logger.warn({ signal, first: received }, 'second signal, exiting now');
      options.exit(1);
      return;
    }
    received = signal;
    options.logger.info({ signal }, 'stopping');
    lifecycle.stopAll().then(
      (result) => {
        options.logger.info({ clean: result.clean }, 'stopped');
        options.exit(result.clean ? 0 : 1);
      },
      () => options.exit(1),
    );
  };
  for (const signal of signals) process.on(signal, onSignal);
  return () => {
    for (const signal of signals) process.off(signal, onSignal);
  };
}
