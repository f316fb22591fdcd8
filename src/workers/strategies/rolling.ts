import type { RolloutState } from '../../api/container-version.js';
import { Reason } from '../../api/conditions.js';
import type { RolloutAction, RolloutFacts } from '../rollout-facts.js';
import { workloadsProgress } from '../workload-progress.js';
import { checksOf, verifyNext } from './verify-step.js';
import { timeOf } from '../rollout-record.js';
import type { RequestOutcome, RolloutStrategy } from './strategy.js';

/**
 * Rolling: the workloads' own update strategy does the work. Steps: the verify Jobs (when the CV
 * has any), then patch every selected workload and wait for them like `kubectl rollout status`,
 * bounded by `rollback.progressDeadlineSeconds` from the patch; on failure roll back to the
 * previous images (when `rollback.enabled`) and wait for that too.
 */
export const rollingStrategy: RolloutStrategy = {
  steps: (spec) =>
    1 +
    (checksOf({ spec }, 'PrePromotion').length > 0 ? 1 : 0) +
    (checksOf({ spec }, 'PostPromotion').length > 0 ? 1 : 0),
  firstPhase: (spec, heal) =>
    checksOf({ spec }, 'PrePromotion').length > 0 && !heal ? 'Verifying' : 'Patching',
  next(facts, rollout) {
    switch (rollout.phase) {
      case 'Verifying':
        // After the patch (the workloads are recorded) the PostPromotion checks run.
        return patched(rollout)
          ? verifyNext(facts, rollout, succeeded(rollout), {
              when: 'PostPromotion',
              onFail: (message) => failedAfterPatch(facts, rollout, Reason.VerifyFailed, message),
            })
          : verifyNext(facts, rollout, { phase: 'Patching', step: rollout.step + 1 });
      case 'Patching':
        return { type: 'patch' };
      case 'Waiting':
        return waiting(facts, rollout);
      case 'RollingBack':
        return rollingBack(facts, rollout);
      case 'Switching':
      case 'Paused':
      case 'Analyzing':
      case 'ScalingDown':
      case 'Recording':
        // The engine records before asking a strategy (decideRollout); the others are not Rolling's.
        throw new Error(`a Rolling rollout is never ${rollout.phase} here`);
    }
  },
  request(_facts, rollout, action): RequestOutcome {
    if (action !== 'abort')
      return { refused: `a Rolling rollout has no steps to ${action}; only abort applies` };
    if (rollout.phase === 'RollingBack') return { refused: 'the rollout is already rolling back' };
    if (!patched(rollout) && rollout.phase === 'Verifying')
      return {
        to: {
          phase: 'Recording',
          result: 'Failed',
          reason: Reason.RolloutAborted,
          message: 'aborted by request before anything was patched',
        },
        message: 'aborted before anything was patched',
      };
    return {
      to: { phase: 'Waiting', reason: Reason.RolloutAborted, failure: 'aborted by request' },
      message: 'aborted: the workloads go back to their previous images',
    };
  },
};

const patched = (rollout: RolloutState) => (rollout.workloads ?? []).length > 0;

function succeeded(rollout: RolloutState) {
  const names = (rollout.workloads ?? []).map((w) => `${w.kind.toLowerCase()}/${w.name}`);
  return {
    phase: 'Recording' as const,
    result: 'Succeeded' as const,
    reason: rollout.heal ? Reason.DriftCorrected : Reason.RolloutSucceeded,
    message: `${rollout.version} rolled out to ${names.join(', ')}`,
  };
}

/** A failure once the workloads were patched: roll back when allowed and possible, else end Failed. */
function failedAfterPatch(
  facts: RolloutFacts,
  rollout: RolloutState,
  reason: Reason,
  failure: string,
): RolloutAction {
  const restorable = (rollout.workloads ?? []).some((w) => w.previousImage);
  if ((facts.spec.rollback.enabled || reason === Reason.RolloutAborted) && restorable)
    return { type: 'rollback', reason, message: failure };
  return {
    type: 'promote',
    to: {
      phase: 'Recording',
      result: 'Failed',
      reason,
      message: facts.spec.rollback.enabled
        ? `${failure}; no previous image to roll back to`
        : failure,
    },
  };
}

function waiting(facts: RolloutFacts, rollout: RolloutState): RolloutAction {
  // An abort asked for while the workloads roll out.
  if (rollout.failure && rollout.reason === Reason.RolloutAborted)
    return failedAfterPatch(facts, rollout, Reason.RolloutAborted, rollout.failure);
  if (!facts.observed) return { type: 'observe' };
  const progress = workloadsProgress(rollout.workloads ?? [], facts.observed);
  if (progress.state === 'done') {
    if (!rollout.heal && checksOf(facts, 'PostPromotion').length > 0)
      return {
        type: 'promote',
        to: {
          phase: 'Verifying',
          step: rollout.step + 1,
          message: `${rollout.version} rolled out; running the PostPromotion checks`,
        },
      };
    return { type: 'promote', to: succeeded(rollout) };
  }
  const deadlineMs = timeOf(rollout.progressDeadlineAt);
  const failure =
    progress.state === 'failed'
      ? progress.message
      : facts.now.getTime() >= deadlineMs
        ? `did not finish rolling out within spec.rollback.progressDeadlineSeconds: ${progress.message}`
        : undefined;
  if (failure === undefined)
    return {
      type: 'wait',
      untilMs: deadlineMs,
      reason: Reason.WaitingForRollout,
      message: progress.message,
    };
  return failedAfterPatch(facts, rollout, Reason.ProgressDeadlineExceeded, failure);
}

function rollingBack(facts: RolloutFacts, rollout: RolloutState): RolloutAction {
  if (!facts.observed) return { type: 'observe' };
  const progress = workloadsProgress(rollout.workloads ?? [], facts.observed);
  if (progress.state === 'done')
    return {
      type: 'promote',
      to: {
        phase: 'Recording',
        result: 'RolledBack',
        reason: Reason.RolledBack,
        message: `${rollout.failure ?? rollout.message}; rolled back to the previous image`,
      },
    };
  const deadlineMs = timeOf(rollout.progressDeadlineAt);
  if (progress.state === 'failed' || facts.now.getTime() >= deadlineMs)
    return {
      type: 'promote',
      to: {
        phase: 'Recording',
        result: 'Failed',
        reason: Reason.RollbackFailed,
        message: `${rollout.failure ?? rollout.message}; rollback did not finish: ${progress.message}`,
      },
    };
  return {
    type: 'wait',
    untilMs: deadlineMs,
    reason: Reason.RollingBack,
    message: progress.message,
  };
}
