import type { Normalized } from '../push-event.js';

/** A delivery that is valid but holds nothing to deploy, for the one `reason` given. */
export function ignore(reason: string): Normalized {
  return { events: [], ignored: [reason] };
}
