import { V1MicroTime, type V1LeaseSpec } from '@kubernetes/client-node';

/**
 * What a candidate should do with the Lease it just read: `follow` while another identity holds
 * an unexpired lease (until `expiresAtMs`, by the holder's `renewTime`), otherwise `take` it;
 * `transition` is true when the holder changes (including from a released, empty holder).
 */
export type LeaseDecision =
  | { action: 'follow'; holder: string; expiresAtMs: number }
  | { action: 'take'; transition: boolean };

/** The fields a decision needs; client-node 1.4 returns `renewTime` as a string although typed Date. */
export type LeaseSpecAsRead = Pick<V1LeaseSpec, 'holderIdentity' | 'leaseDurationSeconds'> & {
  renewTime?: unknown;
};

/**
 * Decides from a Lease's spec whether `identity` may take it at `nowMs`. The lease's own
 * `leaseDurationSeconds` counts (the holder chose it), `fallbackDurationSeconds` only when it is
 * missing. A holder without a parseable `renewTime` has nothing to renew, so it can be taken. Pure.
 */
export function decideLease(
  spec: LeaseSpecAsRead | undefined,
  identity: string,
  nowMs: number,
  fallbackDurationSeconds: number,
): LeaseDecision {
  const holder = spec?.holderIdentity ?? '';
  if (holder === identity) return { action: 'take', transition: false };
  if (holder === '') return { action: 'take', transition: true };
  const renewedAt = parseMicroTime(spec?.renewTime);
  const durationSeconds = spec?.leaseDurationSeconds ?? fallbackDurationSeconds;
  if (renewedAt === undefined) return { action: 'take', transition: true };
  const expiresAtMs = renewedAt.getTime() + durationSeconds * 1000;
  return expiresAtMs > nowMs
    ? { action: 'follow', holder, expiresAtMs }
    : { action: 'take', transition: true };
}

/**
 * The spec `identity` writes to take or renew a lease: holder, duration and `renewTime` now;
 * `acquireTime` now and `leaseTransitions + 1` when the holder changes, both kept otherwise. Pure.
 */
export function takenLeaseSpec(
  previous: V1LeaseSpec | undefined,
  identity: string,
  leaseDurationSeconds: number,
  now: Date,
): V1LeaseSpec {
  const sameHolder = (previous?.holderIdentity ?? '') === identity;
  const transitions = previous?.leaseTransitions ?? 0;
  return {
    ...previous,
    holderIdentity: identity,
    leaseDurationSeconds,
    renewTime: toMicroTime(now),
    acquireTime:
      sameHolder && previous?.acquireTime !== undefined ? previous.acquireTime : toMicroTime(now),
    leaseTransitions: sameHolder ? transitions : transitions + (previous ? 1 : 0),
  };
}

/**
 * The spec a holder writes to let go: no holder and a 1 s duration, so another candidate takes it
 * on its next attempt instead of waiting out the lease (as client-go's ReleaseOnCancel does). Pure.
 */
export function releasedLeaseSpec(previous: V1LeaseSpec, now: Date): V1LeaseSpec {
  return {
    ...previous,
    holderIdentity: undefined,
    leaseDurationSeconds: 1,
    renewTime: toMicroTime(now),
  };
}

/**
 * A Kubernetes MicroTime for `date`. It serializes with six fractional digits (`.123000Z`); a
 * plain `Date` would give `.123Z`, which kube-apiserver rejects with a 400 (libraries.md §1.7).
 */
export function toMicroTime(date: Date): V1MicroTime {
  return new V1MicroTime(date.getTime());
}

const RFC3339 = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/i;

/**
 * Parses a MicroTime as client-node 1.4 returns it: a string (`2026-11-27T20:00:05.123456Z`)
 * although it is typed as a Date. Digits beyond milliseconds are dropped. Returns undefined for
 * anything that is not an RFC 3339 time.
 */
export function parseMicroTime(value: unknown): Date | undefined {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value;
  if (typeof value !== 'string') return undefined;
  const match = RFC3339.exec(value.trim());
  if (!match) return undefined;
  const [, seconds, fraction = '', zone = 'Z'] = match;
  const millis = fraction.padEnd(3, '0').slice(0, 3);
  const parsed = new Date(`${seconds}.${millis}${zone.toUpperCase()}`);
  return Number.isNaN(parsed.getTime()) ? undefined : parsed;
}
