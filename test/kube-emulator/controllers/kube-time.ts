/** Kubernetes `Time`: RFC 3339 with second precision, as the captures show (`2026-11-27T20:42:30Z`). */
export function kubeTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** Milliseconds of a Kubernetes `Time`, or `undefined` when absent or unparseable. */
export function parseKubeTime(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}
