/** What a `429` without a usable `Retry-After` waits for. */
export const DEFAULT_RETRY_AFTER_MS = 10_000;

/**
 * Milliseconds to wait from a `Retry-After` header (RFC 9110 §10.2.3): delay-seconds (`120`) or an
 * HTTP date (`Wed, 21 Oct 2026 07:28:00 GMT`, measured from `nowMs`; a past date gives 0).
 * Missing or unparsable → `defaultMs` (10 s), since a registry that rate-limits without saying
 * for how long still wants us to slow down.
 */
export function parseRetryAfterMs(
  value: string | null | undefined,
  nowMs: number,
  defaultMs: number = DEFAULT_RETRY_AFTER_MS,
): number {
  const text = value?.trim();
  if (!text) return defaultMs;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // Date.parse accepts many shapes; an HTTP date always names a weekday or month in letters.
  if (!/[a-z]/i.test(text)) return defaultMs;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return defaultMs;
  return Math.max(0, at - nowMs);
}
