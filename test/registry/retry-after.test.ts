import { describe, expect, it } from 'vitest';
import { parseRetryAfterMs } from '../../src/registry/retry-after.js';

const NOW = Date.parse('2026-10-21T07:28:00Z');

describe('parseRetryAfterMs', () => {
  it.each([
    ['delay-seconds', '120', 120_000],
    ['zero seconds', '0', 0],
    ['seconds with spaces', ' 5 ', 5_000],
    ['an HTTP date 30 s ahead', 'Wed, 21 Oct 2026 07:28:30 GMT', 30_000],
    ['an HTTP date in the past', 'Wed, 21 Oct 2026 07:00:00 GMT', 0],
    ['missing', undefined, 10_000],
    ['null', null, 10_000],
    ['empty', '', 10_000],
    ['negative seconds', '-5', 10_000],
    ['fractional seconds', '1.5', 10_000],
    ['garbage', 'soon', 10_000],
  ])('%s (%j) → %d ms', (_what, value, expected) => {
    expect(parseRetryAfterMs(value, NOW)).toBe(expected);
  });

  it('uses the given default when the header says nothing usable', () => {
    expect(parseRetryAfterMs('soon', NOW, 2_500)).toBe(2_500);
  });
});
