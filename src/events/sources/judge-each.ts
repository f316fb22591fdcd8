import { MalformedEventError, type Normalized } from '../push-event.js';

/**
 * Judges one event of a multi-event delivery: its result, or its {@link MalformedEventError}'s
 * message in `invalid`. Any other error is a bug and propagates.
 */
export function judgeEach<T, R>(
  items: readonly T[],
  judge: (item: T) => R,
): { results: R[]; invalid: string[] } {
  const results: R[] = [];
  const invalid: string[] = [];
  for (const item of items) {
    try {
      results.push(judge(item));
    } catch (error) {
      if (!(error instanceof MalformedEventError)) throw error;
      invalid.push(error.message);
    }
  }
  return { results, invalid };
}

/** `normalized` with `invalid` set only when there is something in it (keeps results comparable). */
export function withInvalid(normalized: Normalized, invalid: readonly string[]): Normalized {
  return invalid.length > 0 ? { ...normalized, invalid: [...invalid] } : normalized;
}
