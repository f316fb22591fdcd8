import type { RolloutState } from '../../api/container-version.js';
import { Reason } from '../../api/conditions.js';
import type { RolloutAction, RolloutFacts } from '../rollout-facts.js';
import { workloadsProgress } from '../workload-progress.js';
import { verifyNext } from './verify-step.js';
import type { RolloutStrategy } from './strategy.js';

const time = (iso: string | undefined): number =>
  iso ? Date.parse(iso) : Number.POSITIVE_INFINITY;

/**
 * Rolling: the workloads' own update strategy does the work. Steps: the verify Jobs (when the CV
 * has any), then patch every selected workload and wait for them like `kubectl rollout status`,
 * bounded by `rollback.progressDeadlineSeconds` from the patch; on failure roll back to the
 * previous images (when `rollback.enabled`) and wait for that too.
 */
export const rollingStrategy: RolloutStrategy = {
  steps: (spec) => (spec.verify.length > 0 ? 2 : 1),
  firstPhase: (spec, heal) => (spec.verify.length > 0 && !heal ? 'Verifying' : 'Patching'),
  next(facts, rollout) {
    switch (rollout.phase) {
      case 'Verifying':
        return verifyNext(facts, rollout, { phase: 'Patching', step: rollout.step + 1 });
      case 'Patching':
        return { type: 'patch' };
      case 'Waiting':
        return waiting(facts, rollout);
      case 'RollingBack':
        return rollingBack(facts, rollout);
      case 'Recording':
        // The engine records before asking a strategy (decideRollout); never reached.
        throw new Error('a strategy is not asked about a rollout that is recording');
    }
  },
};

function waiting(facts: RolloutFacts, rollout: RolloutState): RolloutAction {
  if (!facts.observed) return { type: 'observe' };
  const progress = workloadsProgress(rollout.workloads ?? [], facts.observed);
  if (progress.state === 'done') {
    const names = (rollout.workloads ?? []).map((w) => `${w.kind.toLowerCase()}/${w.name}`);
    return {
      type: 'promote',
      to: {
        phase: 'Recording',
        result: 'Succeeded',
        reason: rollout.heal ? Reason.DriftCorrected : Reason.RolloutSucceeded,
        message: `${rollout.version} rolled out to ${names.join(', ')}`,
      },
    };
  }
  const deadlineMs = time(rollout.progressDeadlineAt);
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
  const restorable = (rollout.workloads ?? []).some((w) => w.previousImage);
  if (facts.spec.rollback.enabled && restorable)
    return { type: 'rollback', reason: Reason.ProgressDeadlineExceeded, message: failure };
  return {
    type: 'promote',
    to: {
      phase: 'Recording',
      result: 'Failed',
      reason: Reason.ProgressDeadlineExceeded,
      message: facts.spec.rollback.enabled
        ? `${failure}; no previous image to roll back to`
        : failure,
    },
  };
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
  const deadlineMs = time(rollout.progressDeadlineAt);
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
