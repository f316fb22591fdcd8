/**
 * Jittered exponential backoff: `base = min(maxMs, initialMs · 2^attempt)`, the delay uniform in
 * `[base/2, base]` ("equal jitter"), so restarts of many replicas spread out but never collapse to
 * zero. `attempt` counts from 0; `random` returns a number in [0, 1). Pure.
 */
export function backoffDelayMs(
  attempt: number,
  initialMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const base = Math.min(maxMs, initialMs * 2 ** Math.min(Math.max(0, attempt), 30));
  return Math.round(base / 2 + (base / 2) * random());
}
