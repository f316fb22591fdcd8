import { ConditionType, Reason, type ConditionUpdate } from '../api/conditions.js';
import { blockedConditions } from './cv-status.js';
import { digestOfImage } from './plan-container-patch.js';
import { containerOf, type RolloutAction, type RolloutFacts } from './rollout-facts.js';
import type { StepRequest } from '../api/container-version.js';
import { ROLLOUT_REQUESTS } from '../api/container-version.js';
import { STRATEGIES } from './strategies/strategies.js';
import type { RolloutStrategy } from './strategies/strategy.js';

/**
 * The rollout engine's one decision (ADR 0005): from the CV as read now, its rollout in flight
 * (`status.rollout`) and what this run has read, the next action. Level-based: it looks only at
 * the state and the facts, never at what happened before, so a run that died at any point is
 * continued by the next one. Pure; the clock is `facts.now`.
 *
 * Without a rollout in flight it decides whether one starts: the tag's digest, unless it failed
 * before (then the workloads are held at `currentDigest`, and drift from it is reverted), unless
 * every selected workload already runs it. With one in flight its strategy decides, except for
 * the Recording phase, which is the engine's.
 */
export function decideRollout(
  facts: RolloutFacts,
  strategies: Partial<Record<string, RolloutStrategy>> = STRATEGIES,
): RolloutAction {
  const { cv, spec } = facts;
  const generation = cv.metadata.generation;
  if (spec.suspend)
    return {
      type: 'done',
      outcome: 'Suspended',
      conditions: [
        {
          type: ConditionType.Suspended,
          status: 'True',
          reason: Reason.Suspended,
          message: 'spec.suspend is true',
          observedGeneration: generation,
        },
      ],
    };
  const rollout = cv.status?.rollout;
  const request = pendingRequest(cv);
  if (request && rollout?.phase !== 'Recording') return decideRequest(facts, request, strategies);
  if (rollout) {
    if (rollout.phase === 'Recording') return { type: 'record' };
    const strategy = strategies[rollout.strategy];
    if (strategy) return strategy.next(facts, rollout);
    // A rollout of a strategy this version cannot run (written by a newer cvm): end it visibly.
    return {
      type: 'promote',
      to: {
        phase: 'Recording',
        result: 'Failed',
        reason: Reason.InvalidSpec,
        message: `this version of cvm cannot continue a ${rollout.strategy} rollout`,
      },
    };
  }
  if (!strategies[spec.strategy.type])
    return blocked(
      Reason.InvalidSpec,
      `spec.strategy.type ${spec.strategy.type} is not supported by this version of cvm yet; use Rolling`,
      generation,
    );
  return decideStart(facts, strategies[spec.strategy.type]);
}

function blocked(
  reason: Reason,
  message: string,
  generation: number,
  retry?: string,
): RolloutAction {
  return {
    type: 'done',
    outcome: 'Blocked',
    conditions: blockedConditions(reason, message, generation),
    ...(retry ? { retry } : {}),
  };
}

/** The annotation through which people and CI ask something of a CV's rollout. */
export const REQUEST_ANNOTATION = 'cvm.dev/request';

/**
 * The `cvm.dev/request` annotation when cvm has not handled it yet: `promote`, `resume`, `abort`,
 * `retry` or `sync`, optionally followed by `:` and anything (a time) so the same request can be
 * made again; `rollback:<digest>` and `force-rollback:<digest>`, each optionally followed by `:`
 * and anything. Handled once: `status.lastRequest` records the value in the same write as its effect.
 */
export function pendingRequest(
  cv: RolloutFacts['cv'],
): { value: string; action: string } | undefined {
  const value = cv.metadata.annotations?.[REQUEST_ANNOTATION]?.trim();
  if (!value || cv.status?.lastRequest?.value === value) return undefined;
  return { value, action: value.split(':')[0]?.trim().toLowerCase() ?? '' };
}

function decideRequest(
  facts: RolloutFacts,
  request: { value: string; action: string },
  strategies: Partial<Record<string, RolloutStrategy>>,
): RolloutAction {
  const { value, action } = request;
  const refuse = (message: string): RolloutAction => ({
    type: 'request',
    value,
    action,
    result: 'Refused',
    message,
  });
  if (!(ROLLOUT_REQUESTS as readonly string[]).includes(action))
    return refuse(
      `metadata.annotations[${REQUEST_ANNOTATION}]: unknown request ${action || '(empty)'}; use one of ${ROLLOUT_REQUESTS.join(', ')}`,
    );
  const status = facts.cv.status ?? {};
  const rollout = status.rollout;
  if (action === 'sync')
    return {
      type: 'request',
      value,
      action,
      result: 'Applied',
      message: rollout
        ? `a rollout of ${rollout.version} is in flight; the tag is checked again when it ends`
        : `checking ${facts.spec.imageRepo}:${facts.spec.tag} now`,
    };
  if (action === 'rollback' || action === 'force-rollback')
    return decideRollback(facts, value, action, refuse, strategies);
  if (action === 'retry') {
    if (rollout) return refuse(`a rollout of ${rollout.version} is in flight; abort it first`);
    const last = status.lastRollout;
    if (!last || !status.failedDigests?.includes(last.digest))
      return refuse('the last rollout did not fail: nothing to retry');
    return {
      type: 'request',
      value,
      action,
      result: 'Applied',
      message: `retrying ${last.version} (${last.digest})`,
      forget: last.digest,
    };
  }
  if (!rollout) return refuse(`no rollout is in flight to ${action}`);
  const strategy = strategies[rollout.strategy];
  if (!strategy)
    return refuse(`this version of cvm cannot ${action} a ${rollout.strategy} rollout`);
  const outcome = strategy.request(facts, rollout, action as StepRequest);
  if ('refused' in outcome) return refuse(outcome.refused);
  return {
    type: 'request',
    value,
    action,
    result: 'Applied',
    message: outcome.message,
    to: outcome.to,
  };
}

/** The digest a rollback request names: `rollback:sha256:<64 hex>[:anything]`. */
const ROLLBACK_DIGEST = /^sha256:[0-9a-f]{64}(?=$|:)/;

/**
 * `rollback:<digest>`: roll the CV back to a digest that ran before. Refused while a rollout is in
 * flight, for a digest in `failedDigests` (unless `force-rollback`), and when the workloads run it
 * already. Accepted, it starts a rollout of that digest with the CV's strategy (the regression
 * policy does not apply: going back is the point), and holds back the digests the workloads and
 * the tag point at now, so the next poll does not undo it; a new push rolls forward as usual.
 */
function decideRollback(
  facts: RolloutFacts,
  value: string,
  action: 'rollback' | 'force-rollback',
  refuse: (message: string) => RolloutAction,
  strategies: Partial<Record<string, RolloutStrategy>>,
): RolloutAction {
  const status = facts.cv.status ?? {};
  const digest = ROLLBACK_DIGEST.exec(value.slice(action.length + 1))?.[0];
  if (!digest)
    return refuse(
      `metadata.annotations[${REQUEST_ANNOTATION}]: ${action} needs a digest: ${action}:sha256:<64 hex digits>`,
    );
  if (status.rollout)
    return refuse(`a rollout of ${status.rollout.version} is in flight; abort it first`);
  const failed = status.failedDigests?.includes(digest) ?? false;
  if (failed && action !== 'force-rollback')
    return refuse(`${digest} failed before; force-rollback rolls it out anyway`);
  const { resolved, selected } = facts;
  if (resolved === undefined || selected === undefined) return { type: 'resolve' };
  const strategy = strategies[facts.spec.strategy.type];
  const tracked = strategy?.tracked?.(facts) ?? selected;
  const running = tracked.flatMap((w) => {
    const c = containerOf(w, facts.spec.container);
    return c ? [digestOfImage(c.image)] : [];
  });
  if (running.length === 0)
    return refuse(`no selected workload has a container named ${facts.spec.container}`);
  if (status.currentDigest === digest && running.every((d) => d === digest))
    return refuse(`the workloads run ${digest} already`);
  const prepared = strategy?.prepare?.(facts);
  if (prepared && 'invalid' in prepared) return refuse(prepared.invalid);
  const hold = [
    ...new Set([status.currentDigest, resolved?.digest, ...running].filter((d) => d !== undefined)),
  ].filter((d) => d !== digest && !status.failedDigests?.includes(d));
  return {
    type: 'validate',
    digest,
    heal: false,
    rollback: { value, action, hold, ...(failed ? { forget: digest } : {}) },
  };
}

/**
 * Why cvm would refuse the request `value` for `cv` as it is now, judged without reading anything
 * (the REST API answers 409 with it); `undefined` when the request may be applied. A request that
 * needs the registry or the workloads to be judged (a rollback) is judged again when it is handled.
 */
export function requestRefusal(
  cv: RolloutFacts['cv'],
  spec: RolloutFacts['spec'],
  value: string,
  now: Date,
): string | undefined {
  const annotated = {
    ...cv,
    metadata: {
      ...cv.metadata,
      annotations: { ...cv.metadata.annotations, [REQUEST_ANNOTATION]: value },
    },
    status: { ...cv.status, lastRequest: undefined },
  };
  const action = decideRollout({ cv: annotated, spec: { ...spec, suspend: false }, now });
  return action.type === 'request' && action.result === 'Refused' ? action.message : undefined;
}

function decideStart(facts: RolloutFacts, strategy: RolloutStrategy | undefined): RolloutAction {
  const { cv, spec, resolved, selected } = facts;
  const generation = cv.metadata.generation;
  const status = cv.status ?? {};
  if (resolved === undefined || selected === undefined) return { type: 'resolve' };
  if (resolved === null) {
    // The event may have arrived before the registry shows the tag: retried, then reported.
    const message = `tag ${spec.tag} not found in ${spec.imageRepo}`;
    return blocked(Reason.DigestNotFound, message, generation, message);
  }
  if (selected.length === 0)
    return blocked(
      Reason.NoMatchingWorkloads,
      `no Deployment, StatefulSet, DaemonSet or CronJob in ${cv.metadata.namespace} matches the selector`,
      generation,
    );
  const tracked = strategy?.tracked?.(facts) ?? selected;
  const running = tracked.flatMap((w) => {
    const c = containerOf(w, spec.container);
    return c ? [digestOfImage(c.image)] : [];
  });
  if (running.length === 0)
    return blocked(
      Reason.ContainerNotFound,
      `no selected workload has a container named ${spec.container}`,
      generation,
    );
  const current = status.currentDigest;
  const canHeal = current !== undefined && !!status.currentImage && !!status.currentVersion;
  const drifted = canHeal && running.some((d) => d !== current);
  if (status.failedDigests?.includes(resolved.digest)) {
    if (drifted && current !== resolved.digest)
      return { type: 'validate', digest: current, heal: true };
    return {
      type: 'done',
      outcome: 'Blocked',
      conditions: [knownBad(resolved.digest, status.currentVersion, generation)],
      knownBad: resolved.digest,
    };
  }
  if (current === resolved.digest) {
    if (!drifted) return { type: 'done', outcome: 'Unchanged', conditions: [] };
    return { type: 'validate', digest: current, heal: true };
  }
  const prepared = strategy?.prepare?.(facts);
  if (prepared && 'invalid' in prepared)
    return blocked(Reason.InvalidSpec, prepared.invalid, generation);
  return { type: 'validate', digest: resolved.digest, heal: false };
}

function knownBad(
  digest: string,
  currentVersion: string | undefined,
  generation: number,
): ConditionUpdate {
  const held = currentVersion ? `; the workloads stay at ${currentVersion}` : '';
  return {
    type: ConditionType.Progressing,
    status: 'False',
    reason: Reason.KnownBadDigest,
    message: `${digest} failed before and is not rolled out again${held}; push a new image`,
    observedGeneration: generation,
  };
}
