import type { RolloutState, VERIFY_WHEN } from '../../api/container-version.js';
import { Reason } from '../../api/conditions.js';
import type { RolloutAction, RolloutFacts, RolloutTransition } from '../rollout-facts.js';

const failedBeforeAnythingMoved = (message: string): RolloutAction => ({
  type: 'promote',
  to: { phase: 'Recording', result: 'Failed', reason: Reason.VerifyFailed, message },
});

export interface VerifyStepOptions {
  /** Which checks this step runs; default PrePromotion. */
  when?: (typeof VERIFY_WHEN)[number];
  /** Where a failure leads; default: the rollout ends Failed (nothing was patched yet). */
  onFail?: (message: string) => RolloutAction;
}

/** The CV's checks of one kind (before or after traffic moves). */
export const checksOf = (
  facts: Pick<RolloutFacts, 'spec'>,
  when: (typeof VERIFY_WHEN)[number] = 'PrePromotion',
) => facts.spec.verify.filter((c) => c.when === when);

/**
 * The verify step of any strategy, for the checks of one `when`: before anything is patched, a tag that moved on supersedes
 * the rollout; then each `spec.verify` check gets its Job, and the step waits until every Job
 * completed (then `onPass`), one failed, was deleted, or ran past its `timeoutSeconds` (Failed,
 * VerifyFailed). Pure.
 */
export function verifyNext(
  facts: RolloutFacts,
  rollout: RolloutState,
  onPass: RolloutTransition,
  options: VerifyStepOptions = {},
): RolloutAction {
  const when = options.when ?? 'PrePromotion';
  const failed = options.onFail ?? failedBeforeAnythingMoved;
  const checks = checksOf(facts, when);
  const mine = new Set(checks.map((c) => c.name));
  const runs = (rollout.verify ?? []).filter((v) => mine.has(v.name));
  if (when === 'PrePromotion' && facts.resolved === undefined) return { type: 'resolve' };
  if (
    when === 'PrePromotion' &&
    !rollout.heal &&
    facts.resolved &&
    facts.resolved.digest !== rollout.digest
  )
    return {
      type: 'promote',
      to: {
        phase: 'Recording',
        result: 'Superseded',
        reason: Reason.RolloutSuperseded,
        message: `the tag moved on to ${facts.resolved.digest} before ${rollout.version} was rolled out`,
      },
    };
  const started = new Set(runs.map((v) => v.name));
  const toStart = checks.filter((c) => !started.has(c.name)).map((c) => c.name);
  if (toStart.length > 0) return { type: 'verify', checks: toStart };
  if (!facts.verifyJobs) return { type: 'observe' };
  let untilMs = Number.POSITIVE_INFINITY;
  let running: string | undefined;
  for (const v of runs) {
    const job = facts.verifyJobs.get(v.job) ?? { state: 'missing' };
    const check = facts.spec.verify.find((c) => c.name === v.name);
    const deadlineMs = Date.parse(v.startedAt) + (check?.timeoutSeconds ?? 300) * 1000;
    if (job.state === 'failed') return failed(`verify check ${v.name} failed: ${job.message}`);
    if (job.state === 'missing')
      return failed(
        `verify check ${v.name} failed: its Job ${v.job} was deleted before it finished`,
      );
    if (job.state === 'running') {
      if (facts.now.getTime() >= deadlineMs)
        return failed(
          `verify check ${v.name} failed: it did not finish within ${check?.timeoutSeconds ?? 300}s`,
        );
      untilMs = Math.min(untilMs, deadlineMs);
      running ??= v.name;
    }
  }
  if (running !== undefined)
    return {
      type: 'wait',
      untilMs,
      reason: Reason.Verifying,
      message: `waiting for verify check ${running}`,
    };
  return {
    type: 'promote',
    to: {
      ...onPass,
      verify: (rollout.verify ?? []).map((v) =>
        mine.has(v.name) ? { ...v, result: 'Succeeded' as const } : v,
      ),
      message: `verify checks passed: ${runs.map((v) => v.name).join(', ')}`,
    },
  };
}
