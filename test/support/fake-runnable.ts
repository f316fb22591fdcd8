import type { Runnable } from '../../src/lifecycle/runnable.js';

/** A component that records its starts and stops in a shared journal. */
export function recordingRunnable(
  name: string,
  journal: string[],
  behaviour: { failStart?: boolean; failStop?: boolean; stopMs?: number } = {},
): Runnable {
  return {
    name,
    async start() {
      if (behaviour.failStart) throw new Error(`${name} cannot start`);
      journal.push(`start ${name}`);
    },
    async stop() {
      if (behaviour.stopMs) await new Promise((resolve) => setTimeout(resolve, behaviour.stopMs));
      if (behaviour.failStop) throw new Error(`${name} cannot stop`);
      journal.push(`stop ${name}`);
    },
  };
}
