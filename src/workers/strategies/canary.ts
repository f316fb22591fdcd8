import type {
  CanaryState,
  ContainerVersionSpec,
  RolloutState,
  RolloutWorkload,
} from '../../api/container-version.js';
import { Reason } from '../../api/conditions.js';
import type { Workload } from '../ports.js';
import {
  workloadKey,
  type RolloutAction,
  type RolloutFacts,
  type RolloutTransition,
} from '../rollout-facts.js';
import { workloadsProgress } from '../workload-progress.js';
import {
  labelsOf,
  nameOf,
  observedOf,
  readyReplicasOf,
  reached,
  remember,
  replicasOf,
  supersede,
  unscalable,
  withRole,
} from './replica-sets.js';
import { iso, timeOf } from '../rollout-record.js';
import type { RequestOutcome, RolloutStrategy } from './strategy.js';

type Options = NonNullable<ContainerVersionSpec['strategy']['canary']>;
type Step = NonNullable<Options['steps']>[number];
export type MetricOptions = Options['analysis']['metrics'][number];

/** The Canary options, with the defaults of a spec that names none. */
export function canaryOptions(spec: ContainerVersionSpec): Options {
  return (
    spec.strategy.canary ?? {
      trackLabel: 'cvm.dev/track',
      replicasPercent: 10,
      judgeSeconds: 60,
      analysis: { maxRestarts: 0, metrics: [] },
    }
  );
}

/** The steps: `spec.strategy.canary.steps`, or setWeight replicasPercent, pause judgeSeconds, analysis. */
export function canarySteps(spec: ContainerVersionSpec): Step[] {
  const o = canaryOptions(spec);
  return (
    o.steps ?? [
      { setWeight: o.replicasPercent },
      { pause: { durationSeconds: o.judgeSeconds } },
      { analysis: {} },
    ]
  );
}

/**
 * Replicas of the canary at `weight` percent of `total`: rounded, at least 1 for a weight above
 * 0 (a share that rounds to no Pod would judge nothing), at most `total`.
 */
export function canaryReplicas(total: number, weight: number): number {
  if (weight <= 0 || total <= 0) return 0;
  return Math.min(total, Math.max(1, Math.round((total * weight) / 100)));
}

/** The metrics an analysis step judges. */
export function metricsOfStep(spec: ContainerVersionSpec, step: Step | undefined): MetricOptions[] {
  const all = canaryOptions(spec).analysis.metrics;
  const names = step?.analysis?.metrics;
  return names ? all.filter((m) => names.includes(m.name)) : all;
}

/**
 * Canary by replica share (as Argo Rollouts' basic canary, without a mesh): of two workloads,
 * one labelled stable and one canary, the canary takes the new image and `setWeight` percent of
 * the replicas (the stable one the rest, the total constant); `pause` waits (or, without a
 * duration, waits for a person); `analysis` judges the canary: ready, restarts at most
 * `maxRestarts`, and the Prometheus metrics. Any failed judgement aborts: the canary goes back
 * to 0, the stable workload to full size. After the last step the stable workload takes the new
 * image and the canary goes back to 0. Pure.
 */
export const canaryStrategy: RolloutStrategy = {
  steps: (spec) => canarySteps(spec).length + 1,
  firstPhase: () => 'Patching',
  prepare(facts) {
    const tracks = findTracks(facts);
    if ('invalid' in tracks) return tracks;
    const canary = replicasOf(tracks.canary);
    return {
      state: {
        canary: { total: replicasOf(tracks.stable) + canary, weight: 0, canaryReplicas: canary },
      },
    };
  },
  tracked(facts) {
    const tracks = findTracks(facts);
    return 'invalid' in tracks ? undefined : [tracks.stable];
  },
  next(facts, rollout) {
    const cs = rollout.canary;
    if (!cs) return end(Reason.InvalidSpec, 'the Canary rollout lost its replica counts');
    const steps = canarySteps(facts.spec);
    const step = steps[rollout.step - 1];
    if (step !== undefined && rollout.phase !== 'RollingBack') {
      const giveWay = supersede(facts, rollout);
      if (giveWay) return giveWay;
    }
    switch (rollout.phase) {
      case 'Patching':
        return patch(facts, rollout, cs, step);
      case 'Waiting':
        return waiting(facts, rollout, cs, step);
      case 'Paused':
        return paused(facts, rollout, cs, step);
      case 'Analyzing':
        return analyzing(facts, rollout, cs, step);
      case 'ScalingDown': {
        if (!facts.observed) return { type: 'observe' };
        const canary = withRole(rollout.workloads, 'canary');
        const done: RolloutTransition = {
          phase: 'Recording',
          result: 'Succeeded',
          reason: Reason.RolloutSucceeded,
          message: `${rollout.version} promoted to ${withRole(rollout.workloads, 'stable').map(nameOf).join(', ')}; the canary is back to 0`,
          canary: { ...cs, weight: 0, canaryReplicas: 0, actualWeight: 0 },
        };
        if (
          canary.every((e) => reached(observedOf(facts, e), facts.spec.container, { replicas: 0 }))
        )
          return { type: 'promote', to: done };
        return {
          type: 'apply',
          changes: canary.map((e) => change(e, { replicas: 0 })),
          then: done,
        };
      }
      case 'RollingBack':
        return rollingBack(facts, rollout, cs);
      case 'Verifying':
      case 'Switching':
      case 'Recording':
        throw new Error(`a Canary rollout is never ${rollout.phase} here`);
    }
  },
  request(facts, rollout, action): RequestOutcome {
    const cs = rollout.canary;
    const last = canarySteps(facts.spec).length;
    if (action === 'abort') {
      if (rollout.phase === 'RollingBack')
        return { refused: 'the rollout is already rolling back' };
      return {
        to: abortTransition(Reason.RolloutAborted, 'aborted by request'),
        message: 'aborted: the canary goes back to 0 and the stable workload to full size',
      };
    }
    if (rollout.phase === 'RollingBack' || rollout.step > last || !cs)
      return {
        refused: `the rollout is ${rollout.phase === 'RollingBack' ? 'rolling back' : 'already promoting'}`,
      };
    if (action === 'resume') {
      if (rollout.phase !== 'Paused')
        return { refused: `the rollout is ${rollout.phase}; resume applies while it is Paused` };
      return {
        to: advance(facts, rollout, cs),
        message: `resumed: step ${rollout.step + 1} of ${rollout.steps}`,
      };
    }
    return {
      to: {
        phase: 'Patching',
        step: last + 1,
        canary: { ...cs, promoted: true },
        message: `promoted by request: the stable workload takes ${rollout.version}`,
      },
      message: 'promoted: the remaining steps are skipped',
    };
  },
};

function findTracks(
  facts: RolloutFacts,
): { invalid: string } | { stable: Workload; canary: Workload } {
  const o = canaryOptions(facts.spec);
  const selected = facts.selected ?? [];
  const invalidKind = unscalable(selected, 'Canary');
  if (invalidKind) return { invalid: invalidKind };
  const of = (track: string) => selected.filter((w) => labelsOf(w)[o.trackLabel] === track);
  const stable = of('stable');
  const canary = of('canary');
  const field = 'strategy.canary.trackLabel';
  if (stable.length !== 1 || canary.length !== 1 || !stable[0] || !canary[0])
    return {
      invalid: `${field}: Canary needs one selected workload labelled ${o.trackLabel}=stable and one ${o.trackLabel}=canary; found ${stable.length} and ${canary.length}`,
    };
  return { stable: stable[0], canary: canary[0] };
}

const change = (
  e: RolloutWorkload,
  what: { image?: string; replicas?: number; restore?: boolean },
) => ({
  kind: e.kind,
  name: e.name,
  role: e.role,
  ...(e.namespace ? { namespace: e.namespace } : {}),
  ...what,
});

function patch(
  facts: RolloutFacts,
  rollout: RolloutState,
  cs: CanaryState,
  step: Step | undefined,
): RolloutAction {
  const known = (rollout.workloads ?? []).length > 0;
  if (!known && !facts.selected) return { type: 'resolve' };
  const tracks = known ? undefined : findTracks(facts);
  if (tracks && 'invalid' in tracks) return end(Reason.InvalidSpec, tracks.invalid);
  const stableEntry = tracks
    ? remember(tracks.stable, 'stable')
    : withRole(rollout.workloads, 'stable')[0];
  const canaryEntry = tracks
    ? remember(tracks.canary, 'canary')
    : withRole(rollout.workloads, 'canary')[0];
  if (!stableEntry || !canaryEntry)
    return end(Reason.InvalidSpec, 'the Canary rollout lost its workloads');
  if (step === undefined) {
    // Past the last step: the stable workload takes the new version at full size.
    return {
      type: 'apply',
      changes: [
        change(stableEntry, { image: rollout.image, replicas: cs.total }),
        change(canaryEntry, {}),
      ],
      then: {
        phase: 'Waiting',
        message: `promoting: ${nameOf(stableEntry)} takes ${rollout.version}`,
      },
    };
  }
  if (step.setWeight === undefined) {
    // A first step that sets no weight: the canary gets the image, at the replicas it has.
    return {
      type: 'apply',
      changes: [change(canaryEntry, { image: rollout.image }), change(stableEntry, {})],
      then: enter(facts, rollout, cs, rollout.step),
    };
  }
  const replicas = canaryReplicas(cs.total, step.setWeight);
  return {
    type: 'apply',
    changes: [
      change(canaryEntry, { image: rollout.image, replicas }),
      change(stableEntry, { replicas: cs.total - replicas }),
    ],
    then: {
      phase: 'Waiting',
      canary: { ...cs, weight: step.setWeight, canaryReplicas: replicas },
      message: `canary at ${step.setWeight}%: ${replicas} of ${cs.total} replicas run ${rollout.version}`,
    },
  };
}

/** The transition into step `n` (Patching for a weight, Paused, Analyzing), or to promotion past the last. */
function enter(
  facts: RolloutFacts,
  rollout: RolloutState,
  cs: CanaryState,
  n: number,
): RolloutTransition {
  const step = canarySteps(facts.spec)[n - 1];
  const now = iso(facts.now);
  if (step === undefined)
    return {
      phase: 'Patching',
      step: n,
      canary: cs,
      message: `every step passed; promoting ${rollout.version}`,
    };
  if (step.setWeight !== undefined)
    return {
      phase: 'Patching',
      step: n,
      canary: cs,
      message: `setting the canary to ${step.setWeight}%`,
    };
  if (step.pause !== undefined)
    return {
      phase: 'Paused',
      step: n,
      canary: { ...cs, pauseStartedAt: now },
      message:
        step.pause.durationSeconds === undefined
          ? `paused at ${cs.weight}% until a person promotes the rollout (cvm.dev/request=promote or resume)`
          : `paused at ${cs.weight}% for ${step.pause.durationSeconds}s`,
    };
  const { metrics: _, ...rest } = cs;
  return {
    phase: 'Analyzing',
    step: n,
    canary: { ...rest, analysisStartedAt: now, metrics: [] },
    message: `judging the canary at ${cs.weight}%`,
  };
}

const advance = (facts: RolloutFacts, rollout: RolloutState, cs: CanaryState) =>
  enter(facts, rollout, cs, rollout.step + 1);

/** The canary's health now: a failure message, or the share of ready replicas it has. */
function health(
  facts: RolloutFacts,
  rollout: RolloutState,
): { failed: string } | { actualWeight: number } {
  const o = canaryOptions(facts.spec);
  const canary = withRole(rollout.workloads, 'canary')[0];
  const stable = withRole(rollout.workloads, 'stable')[0];
  const pods = canary ? (facts.pods?.get(workloadKey(canary)) ?? []) : [];
  const restarts = pods
    .filter((p) => p.images[facts.spec.container] === rollout.image)
    .reduce((sum, p) => sum + (p.restarts[facts.spec.container] ?? 0), 0);
  if (restarts > o.analysis.maxRestarts)
    return {
      failed: `the canary's pods restarted ${restarts} time(s); strategy.canary.analysis.maxRestarts allows ${o.analysis.maxRestarts}`,
    };
  const canaryReady = canary ? readyReplicasOf(observedOf(facts, canary)) : 0;
  const stableReady = stable ? readyReplicasOf(observedOf(facts, stable)) : 0;
  const total = canaryReady + stableReady;
  return { actualWeight: total === 0 ? 0 : Math.round((canaryReady * 100) / total) };
}

function waiting(
  facts: RolloutFacts,
  rollout: RolloutState,
  cs: CanaryState,
  step: Step | undefined,
): RolloutAction {
  if (!facts.observed) return { type: 'observe' };
  const promoting = step === undefined;
  const entries = promoting ? withRole(rollout.workloads, 'stable') : (rollout.workloads ?? []);
  const progress = workloadsProgress(entries, facts.observed);
  const judged = promoting ? undefined : health(facts, rollout);
  if (judged && 'failed' in judged) return abort(Reason.AnalysisFailed, judged.failed, cs, facts);
  const deadlineMs = timeOf(rollout.progressDeadlineAt);
  if (
    progress.state === 'failed' ||
    (progress.state === 'progressing' && facts.now.getTime() >= deadlineMs)
  )
    return abort(
      Reason.ProgressDeadlineExceeded,
      progress.state === 'failed'
        ? progress.message
        : `did not finish within spec.rollback.progressDeadlineSeconds: ${progress.message}`,
      cs,
      facts,
    );
  if (progress.state === 'done') {
    if (promoting)
      return {
        type: 'promote',
        to: {
          phase: 'ScalingDown',
          message: `${rollout.version} runs on the stable workload; the canary goes back to 0`,
        },
      };
    return { type: 'promote', to: advance(facts, rollout, { ...cs, ...judged }) };
  }
  return {
    type: 'wait',
    untilMs: deadlineMs,
    reason: Reason.WaitingForRollout,
    message: progress.message,
    ...(judged ? { update: { canary: { ...cs, ...judged } } } : {}),
  };
}

function paused(
  facts: RolloutFacts,
  rollout: RolloutState,
  cs: CanaryState,
  step: Step | undefined,
): RolloutAction {
  if (!facts.observed) return { type: 'observe' };
  const judged = health(facts, rollout);
  if ('failed' in judged) return abort(Reason.AnalysisFailed, judged.failed, cs, facts);
  const seconds = step?.pause?.durationSeconds;
  const untilMs =
    seconds === undefined ? Number.POSITIVE_INFINITY : timeOf(cs.pauseStartedAt) + seconds * 1000;
  if (facts.now.getTime() >= untilMs)
    return { type: 'promote', to: advance(facts, rollout, { ...cs, ...judged }) };
  return {
    type: 'wait',
    untilMs,
    reason: Reason.RolloutPaused,
    message: rollout.message,
    update: { canary: { ...cs, ...judged } },
  };
}

function analyzing(
  facts: RolloutFacts,
  rollout: RolloutState,
  cs: CanaryState,
  step: Step | undefined,
): RolloutAction {
  if (!facts.observed) return { type: 'observe' };
  const judged = health(facts, rollout);
  if ('failed' in judged) return abort(Reason.AnalysisFailed, judged.failed, cs, facts);
  const canary = withRole(rollout.workloads, 'canary')[0];
  const canaryNow = canary ? observedOf(facts, canary) : undefined;
  const ready = canaryNow ? readyReplicasOf(canaryNow) : 0;
  if (cs.canaryReplicas > 0 && ready < cs.canaryReplicas) {
    const message = `${ready} of ${cs.canaryReplicas} canary replicas are ready`;
    const deadlineMs = timeOf(rollout.progressDeadlineAt);
    if (facts.now.getTime() >= deadlineMs) return abort(Reason.AnalysisFailed, message, cs, facts);
    return {
      type: 'wait',
      untilMs: deadlineMs,
      reason: Reason.Analyzing,
      message,
      update: { canary: { ...cs, ...judged } },
    };
  }
  const metrics = metricsOfStep(facts.spec, step);
  const runs = cs.metrics ?? [];
  let nextMs = Number.POSITIVE_INFINITY;
  const due: string[] = [];
  for (const m of metrics) {
    const run = runs.find((r) => r.name === m.name) ?? {
      name: m.name,
      measurements: [],
      count: 0,
      failures: 0,
    };
    if (run.failures > m.failureLimit) {
      const last = run.measurements.at(-1);
      return abort(
        Reason.AnalysisFailed,
        `metric ${m.name} failed ${run.failures} of ${run.count} measurement(s) (failureLimit ${m.failureLimit}); last: ${last?.value ?? '?'}${last?.message ? ` (${last.message})` : ''}`,
        cs,
        facts,
      );
    }
    if (run.count >= m.count) continue;
    const lastAt = run.measurements.at(-1)?.at;
    const dueMs = lastAt ? timeOf(lastAt) + m.intervalSeconds * 1000 : facts.now.getTime();
    if (dueMs <= facts.now.getTime()) due.push(m.name);
    else nextMs = Math.min(nextMs, dueMs);
  }
  if (due.length > 0) return { type: 'measure', metrics: due };
  if (nextMs !== Number.POSITIVE_INFINITY)
    return {
      type: 'wait',
      untilMs: nextMs,
      reason: Reason.Analyzing,
      message: `judging the canary at ${cs.weight}%: ${summary(cs)}`,
      update: { canary: { ...cs, ...judged } },
    };
  const passed = `the canary passed at ${cs.weight}%: ready, ${metrics.length === 0 ? 'no restarts' : summary(cs)}`;
  return {
    type: 'promote',
    to: {
      ...advance(facts, rollout, {
        ...cs,
        ...judged,
        judgement: { at: iso(facts.now), result: 'Passed', message: passed },
      }),
    },
  };
}

const summary = (cs: CanaryState) =>
  (cs.metrics ?? []).map((r) => `${r.name} ${r.count - r.failures}/${r.count} good`).join(', ') ||
  'no metrics';

/** After an abort: the canary to 0, the stable workload to full size at its previous image, then wait for it. */
function rollingBack(facts: RolloutFacts, rollout: RolloutState, cs: CanaryState): RolloutAction {
  if (!facts.observed) return { type: 'observe' };
  const canary = withRole(rollout.workloads, 'canary');
  const stable = withRole(rollout.workloads, 'stable');
  const want = [
    ...canary.map((e) => ({ e, what: { replicas: 0 } })),
    ...stable.map((e) => ({
      e,
      what: {
        replicas: cs.total,
        ...(e.previousImage ? { image: e.previousImage, restore: true } : {}),
      },
    })),
  ];
  const why = rollout.failure ?? rollout.message;
  if (!want.every(({ e, what }) => reached(observedOf(facts, e), facts.spec.container, what)))
    return {
      type: 'apply',
      changes: want.map(({ e, what }) => change(e, what)),
      then: { phase: 'RollingBack', message: `${why}; the canary goes back to 0` },
    };
  const progress = workloadsProgress(stable, facts.observed);
  const back = `${why}; the canary is back to 0 and ${stable.map(nameOf).join(', ')} at ${cs.total} replicas`;
  if (progress.state === 'done')
    return {
      type: 'promote',
      to: {
        phase: 'Recording',
        result: rollout.reason === Reason.RolloutSuperseded ? 'Superseded' : 'RolledBack',
        reason: rollout.reason ?? Reason.RolledBack,
        message: back,
        canary: { ...cs, weight: 0, canaryReplicas: 0, actualWeight: 0 },
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
        message: `${why}; the stable workload did not recover: ${progress.message}`,
      },
    };
  return {
    type: 'wait',
    untilMs: deadlineMs,
    reason: Reason.RollingBack,
    message: progress.message,
  };
}

function abortTransition(
  reason: Reason,
  failure: string,
  cs?: CanaryState,
  facts?: RolloutFacts,
): RolloutTransition {
  return {
    phase: 'RollingBack',
    reason,
    failure,
    message: `${failure}; rolling back`,
    ...(cs && facts && reason === Reason.AnalysisFailed
      ? {
          canary: {
            ...cs,
            judgement: { at: iso(facts.now), result: 'Failed' as const, message: failure },
          },
        }
      : {}),
  };
}

const abort = (
  reason: Reason,
  failure: string,
  cs: CanaryState,
  facts: RolloutFacts,
): RolloutAction => ({
  type: 'promote',
  to: abortTransition(reason, failure, cs, facts),
});

const end = (reason: Reason, message: string): RolloutAction => ({
  type: 'promote',
  to: { phase: 'Recording', result: 'Failed', reason, message },
});
