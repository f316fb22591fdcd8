import type { EmulatorClock } from './contract.js';

/**
 * An emulated clock that runs `timeScale` times faster than the real one, starting at the real
 * current time. `setTimeout` takes emulated milliseconds.
 */
export function createClock(timeScale: number): EmulatorClock {
  if (!(timeScale > 0)) throw new RangeError(`timeScale must be > 0, got ${timeScale}`);
  const realStart = Date.now();
  return {
    timeScale,
    now: () => realStart + (Date.now() - realStart) * timeScale,
    setTimeout(callback, emulatedMs) {
      const handle = setTimeout(callback, Math.max(0, emulatedMs / timeScale));
      return { cancel: () => clearTimeout(handle) };
    },
  };
}

/** Kubernetes `Time` (RFC 3339, seconds precision) of emulated milliseconds. */
export function formatKubeTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** Kubernetes `MicroTime` (RFC 3339, microseconds) of emulated milliseconds. */
export function formatMicroTime(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 23)}000Z`;
}
