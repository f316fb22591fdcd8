import { describe, expect, it } from 'vitest';
import { createClock, formatKubeTime, formatMicroTime } from './clock.js';

describe('clock', () => {
  it('runs timeScale times faster than real time', async () => {
    const clock = createClock(50);
    const start = clock.now();
    const fired = await new Promise<number>((resolve) => {
      clock.setTimeout(() => resolve(clock.now()), 1000);
    });
    expect(fired - start).toBeGreaterThanOrEqual(1000 - 50);
  });

  it('cancel stops a timer', async () => {
    const clock = createClock(1);
    let fired = false;
    clock.setTimeout(() => (fired = true), 5).cancel();
    await new Promise((r) => setTimeout(r, 20));
    expect(fired).toBe(false);
  });

  it('formats Time and MicroTime', () => {
    const ms = Date.parse('2026-11-27T20:00:05.123Z');
    expect(formatKubeTime(ms)).toBe('2026-11-27T20:00:05Z');
    expect(formatMicroTime(ms)).toBe('2026-11-27T20:00:05.123000Z');
  });
});
