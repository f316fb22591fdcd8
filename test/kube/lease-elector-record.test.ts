import { describe, expect, it } from 'vitest';
import {
  decideLease,
  parseMicroTime,
  releasedLeaseSpec,
  takenLeaseSpec,
  toMicroTime,
} from '../../src/kube/lease-record.js';

const NOW = Date.parse('2026-11-27T20:00:10.000Z');

describe('decideLease', () => {
  it.each([
    ['a missing Lease is taken', undefined, { action: 'take', transition: true }],
    [
      'a released Lease (no holder) is taken',
      { leaseDurationSeconds: 1, renewTime: '2026-11-27T20:00:09.999000Z' },
      { action: 'take', transition: true },
    ],
    [
      'our own Lease is renewed without a transition',
      { holderIdentity: 'me', leaseDurationSeconds: 15, renewTime: '2026-11-27T20:00:09.000000Z' },
      { action: 'take', transition: false },
    ],
    [
      "another holder's unexpired Lease is followed until renewTime + duration",
      { holderIdentity: 'b', leaseDurationSeconds: 15, renewTime: '2026-11-27T20:00:00.500000Z' },
      { action: 'follow', holder: 'b', expiresAtMs: Date.parse('2026-11-27T20:00:15.500Z') },
    ],
    [
      "another holder's expired Lease is taken over",
      { holderIdentity: 'b', leaseDurationSeconds: 5, renewTime: '2026-11-27T20:00:04.999999Z' },
      { action: 'take', transition: true },
    ],
    [
      'a Lease expiring exactly now is taken over',
      { holderIdentity: 'b', leaseDurationSeconds: 10, renewTime: '2026-11-27T20:00:00.000000Z' },
      { action: 'take', transition: true },
    ],
    [
      'a holder without renewTime is taken over',
      { holderIdentity: 'b', leaseDurationSeconds: 15 },
      { action: 'take', transition: true },
    ],
    [
      "the holder's duration counts, ours only when it has none",
      { holderIdentity: 'b', renewTime: '2026-11-27T20:00:00.000000Z' },
      { action: 'follow', holder: 'b', expiresAtMs: Date.parse('2026-11-27T20:00:30.000Z') },
    ],
  ])('%s', (_name, spec, expected) => {
    expect(decideLease(spec, 'me', NOW, 30)).toEqual(expected);
  });
});

describe('takenLeaseSpec', () => {
  const now = new Date(NOW);

  it('creates a Lease with zero transitions and MicroTimes of six digits', () => {
    const spec = takenLeaseSpec(undefined, 'me', 15, now);
    expect(JSON.parse(JSON.stringify(spec))).toEqual({
      holderIdentity: 'me',
      leaseDurationSeconds: 15,
      acquireTime: '2026-11-27T20:00:10.000000Z',
      renewTime: '2026-11-27T20:00:10.000000Z',
      leaseTransitions: 0,
    });
  });

  it('a take-over sets acquireTime and counts one transition', () => {
    const previous = {
      holderIdentity: 'b',
      leaseDurationSeconds: 5,
      acquireTime: '2026-11-27T19:00:00.000000Z' as never,
      renewTime: '2026-11-27T19:59:00.000000Z' as never,
      leaseTransitions: 3,
    };
    const spec = JSON.parse(JSON.stringify(takenLeaseSpec(previous, 'me', 15, now))) as object;
    expect(spec).toMatchObject({
      holderIdentity: 'me',
      leaseDurationSeconds: 15,
      acquireTime: '2026-11-27T20:00:10.000000Z',
      leaseTransitions: 4,
    });
  });

  it('a renewal keeps acquireTime and the transition count', () => {
    const previous = {
      holderIdentity: 'me',
      leaseDurationSeconds: 15,
      acquireTime: '2026-11-27T19:00:00.123456Z' as never,
      renewTime: '2026-11-27T20:00:05.000000Z' as never,
      leaseTransitions: 2,
    };
    const spec = JSON.parse(JSON.stringify(takenLeaseSpec(previous, 'me', 15, now))) as object;
    expect(spec).toEqual({
      holderIdentity: 'me',
      leaseDurationSeconds: 15,
      acquireTime: '2026-11-27T19:00:00.123456Z',
      renewTime: '2026-11-27T20:00:10.000000Z',
      leaseTransitions: 2,
    });
  });

  it('a release clears the holder and shortens the lease to 1 s', () => {
    const previous = { holderIdentity: 'me', leaseDurationSeconds: 15, leaseTransitions: 2 };
    const spec = JSON.parse(JSON.stringify(releasedLeaseSpec(previous, now))) as object;
    expect(spec).toEqual({
      leaseDurationSeconds: 1,
      renewTime: '2026-11-27T20:00:10.000000Z',
      leaseTransitions: 2,
    });
  });
});

describe('MicroTime', () => {
  it('serializes with six fractional digits, unlike a plain Date', () => {
    const date = new Date('2026-11-27T20:00:05.123Z');
    expect(JSON.stringify({ t: toMicroTime(date) })).toBe('{"t":"2026-11-27T20:00:05.123000Z"}');
    expect(JSON.stringify({ t: date })).toBe('{"t":"2026-11-27T20:00:05.123Z"}');
  });

  it.each([
    ['2026-11-27T20:00:05.123456Z', '2026-11-27T20:00:05.123Z'],
    ['2026-11-27T20:00:05Z', '2026-11-27T20:00:05.000Z'],
    ['2026-11-27T20:00:05.1Z', '2026-11-27T20:00:05.100Z'],
    ['2026-11-27T22:00:05.999999999+02:00', '2026-11-27T20:00:05.999Z'],
  ])('parses %s', (text, iso) => {
    expect(parseMicroTime(text)?.toISOString()).toBe(iso);
  });

  it.each([[undefined], [''], ['yesterday'], [42], ['2026-13-45T99:00:00Z']])(
    'rejects %s',
    (value) => {
      expect(parseMicroTime(value)).toBeUndefined();
    },
  );

  it('accepts a Date (client-node could one day deserialize MicroTimes)', () => {
    const date = new Date(NOW);
    expect(parseMicroTime(date)).toBe(date);
  });
});
