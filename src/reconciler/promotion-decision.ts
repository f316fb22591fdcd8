import { ConditionType } from '../api/conditions.js';
import { validateSpec } from '../api/validate.js';
import type { StoredContainerVersion } from '../workers/ports.js';

/** Wait before a failed promotion of the same digest is tried again. Default of {@link promotionDue}. */
export const PROMOTION_RETRY_MS = 30_000;

/** Why nothing is promoted now. */
export type PromotionBlock =
  | 'NoPromotion'
  | 'InvalidSpec'
  | 'Suspended'
  | 'RolloutInFlight'
  | 'NoSuccessfulRollout'
  | 'NotCurrent'
  | 'FailedDigest'
  | 'NotReady'
  | 'Degraded'
  | 'AlreadyPromoted';

export type PromotionDecision =
  | { action: 'none'; reason: PromotionBlock }
  /** Ask again at `dueAt` (the soak ends, or a failed attempt may be retried). */
  | { action: 'wait'; dueAt: Date }
  | {
      action: 'promote';
      /** `spec.imageRepo`, the repository both tags are in. */
      imageRepo: string;
      /** `spec.history`: whether (and how many) history entries are kept. */
      history: { enabled: boolean; limit: number };
      tag: string;
      digest: string;
      version: string;
      /** `lastRollout.startedAt`: with tag and digest, the promotion's identity. */
      rolloutStartedAt: string;
    };

const ms = (time: string | undefined) => (time === undefined ? NaN : Date.parse(time));

/**
 * Whether a CV's `spec.promotion` is due at `now`; pure (ADR 0013). Due once the CV has run its
 * current digest Ready for `afterSeconds` since the later of the successful rollout's end and
 * Ready's last transition, with no failure: not suspended, no rollout in flight, the last rollout
 * `Succeeded` on the current digest, the digest not in `failedDigests`, Ready True and Degraded
 * not True. A digest already promoted to the tag (`lastPromotion` Promoted or AlreadyThere) is
 * done; a failed attempt is retried `retryMs` after it.
 */
export function promotionDue(
  cv: StoredContainerVersion,
  now: Date,
  retryMs: number = PROMOTION_RETRY_MS,
): PromotionDecision {
  const validation = validateSpec(cv.spec);
  if (!validation.ok) return { action: 'none', reason: 'InvalidSpec' };
  const spec = validation.value;
  const promotion = spec.promotion;
  if (!promotion) return { action: 'none', reason: 'NoPromotion' };
  if (spec.suspend) return { action: 'none', reason: 'Suspended' };
  const status = cv.status ?? {};
  if (status.rollout) return { action: 'none', reason: 'RolloutInFlight' };
  const last = status.lastRollout;
  if (last?.result !== 'Succeeded' || last.finishedAt === undefined)
    return { action: 'none', reason: 'NoSuccessfulRollout' };
  if (last.digest !== status.currentDigest) return { action: 'none', reason: 'NotCurrent' };
  if ((status.failedDigests ?? []).includes(last.digest))
    return { action: 'none', reason: 'FailedDigest' };
  const conditions = status.conditions ?? [];
  const ready = conditions.find((c) => c.type === ConditionType.Ready);
  if (ready?.status !== 'True') return { action: 'none', reason: 'NotReady' };
  if (conditions.some((c) => c.type === ConditionType.Degraded && c.status === 'True'))
    return { action: 'none', reason: 'Degraded' };

  const previous = status.lastPromotion;
  const same = previous?.tag === promotion.tag && previous.digest === last.digest;
  if (same && previous.result !== 'Failed') return { action: 'none', reason: 'AlreadyPromoted' };

  const readySinceMs = Math.max(ms(last.finishedAt), ms(ready.lastTransitionTime) || 0);
  let dueMs = readySinceMs + promotion.afterSeconds * 1000;
  if (same) dueMs = Math.max(dueMs, ms(previous.at) + retryMs);
  if (!Number.isFinite(dueMs)) return { action: 'none', reason: 'NoSuccessfulRollout' };
  if (dueMs > now.getTime()) return { action: 'wait', dueAt: new Date(dueMs) };
  return {
    action: 'promote',
    imageRepo: spec.imageRepo,
    history: spec.history,
    tag: promotion.tag,
    digest: last.digest,
    version: status.currentVersion ?? last.version,
    rolloutStartedAt: last.startedAt,
  };
}
