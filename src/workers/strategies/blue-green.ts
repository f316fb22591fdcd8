import type {
  BlueGreenState,
  ContainerVersionSpec,
  RolloutState,
} from '../../api/container-version.js';
import { Reason } from '../../api/conditions.js';
import type { ServiceTarget, ServiceView, Workload } from '../ports.js';
import type {
  RolloutAction,
  RolloutFacts,
  RolloutTransition,
  WorkloadChange,
} from '../rollout-facts.js';
import { workloadsProgress } from '../workload-progress.js';
import {
  labelsOf,
  nameOf,
  observedOf,
  reached,
  remember,
  replicasOf,
  supersede,
  unscalable,
  withRole,
} from './replica-sets.js';
import { iso, timeOf } from '../rollout-record.js';
import type { RequestOutcome, RolloutStrategy } from './strategy.js';
import { checksOf, verifyNext } from './verify-step.js';

type Options = NonNullable<ContainerVersionSpec['strategy']['blueGreen']>;
type Stage = 'deploy' | 'preview' | 'verify' | 'pause' | 'switch' | 'verify-after' | 'scale-down';

const optionsOf = (spec: ContainerVersionSpec): Options => {
  const options = spec.strategy.blueGreen;
  if (!options) throw new Error('strategy.blueGreen is required when strategy.type is BlueGreen');
  return options;
};

/** The stages of a BlueGreen rollout for this spec, in order: what "step n of N" counts. */
function stages(spec: ContainerVersionSpec): Stage[] {
  const o = optionsOf(spec);
  return [
    'deploy',
    ...(o.previewService ? (['preview'] as const) : []),
    ...(checksOf({ spec }, 'PrePromotion').length > 0 ? (['verify'] as const) : []),
    ...(o.autoPromote ? [] : (['pause'] as const)),
    'switch',
    ...(checksOf({ spec }, 'PostPromotion').length > 0 ? (['verify-after'] as const) : []),
    ...(o.scaleDown ? (['scale-down'] as const) : []),
  ];
}

const stepOf = (spec: ContainerVersionSpec, stage: Stage) => stages(spec).indexOf(stage) + 1;

/** `web.shop-green.svc.cluster.local` → `shop-green`: the namespace an ExternalName points into. */
const namespaceOfName = (externalName: string | undefined) => externalName?.split('.')[1];

/** The colour a Service sends traffic to: its selector's colour label, or its ExternalName's namespace. */
function colourOfService(o: Options, service: ServiceView): string | undefined {
  return o.namespaces ? namespaceOfName(service.externalName) : service.selector[o.colorLabel];
}

/** Where a Service must point for `colour` to get its traffic. */
export function targetOf(o: Options, colour: string, active: string): ServiceTarget {
  return o.namespaces
    ? { externalName: `${o.serviceName ?? active}.${colour}.svc.cluster.local` }
    : { selector: { [o.colorLabel]: colour } };
}

const colourOfWorkload = (o: Options, w: Workload) =>
  o.namespaces ? w.namespace : labelsOf(w)[o.colorLabel];

const serviceOf = (facts: RolloutFacts, name: string | undefined) =>
  name === undefined ? undefined : facts.services?.get(`${facts.cv.metadata.namespace}/${name}`);

interface Colours {
  live: string;
  idle: string;
  liveWorkloads: Workload[];
  idleWorkloads: Workload[];
}

/**
 * The two colours from the selected workloads and the active Service: the live one is the one it
 * sends traffic to, the idle one the only other colour. Invalid setups are messages naming the field.
 */
function findColours(facts: RolloutFacts): Colours | { invalid: string } {
  const o = optionsOf(facts.spec);
  const ns = facts.cv.metadata.namespace;
  const active = serviceOf(facts, o.activeService);
  if (!active)
    return {
      invalid: `strategy.blueGreen.activeService: Service ${o.activeService} not found in ${ns}`,
    };
  if (o.previewService && !serviceOf(facts, o.previewService))
    return {
      invalid: `strategy.blueGreen.previewService: Service ${o.previewService} not found in ${ns}`,
    };
  if (o.namespaces && active.type !== 'ExternalName')
    return {
      invalid: `strategy.blueGreen.activeService: Service ${o.activeService} must be of type ExternalName when strategy.blueGreen.namespaces is set (it is ${active.type})`,
    };
  const live = colourOfService(o, active);
  if (!live)
    return {
      invalid: o.namespaces
        ? `strategy.blueGreen.activeService: Service ${o.activeService} points at ${active.externalName ?? 'nothing'}, not at <service>.<namespace>.svc`
        : `strategy.blueGreen.colorLabel: Service ${o.activeService}'s selector has no ${o.colorLabel}`,
    };
  const selected = facts.selected ?? [];
  const invalidKind = unscalable(selected, 'BlueGreen');
  if (invalidKind) return { invalid: invalidKind };
  const byColour = new Map<string, Workload[]>();
  for (const w of selected) {
    const colour = colourOfWorkload(o, w);
    if (!colour)
      return {
        invalid: `strategy.blueGreen.colorLabel: ${nameOf(w)} has no label ${o.colorLabel}`,
      };
    byColour.set(colour, [...(byColour.get(colour) ?? []), w]);
  }
  const field = o.namespaces ? 'strategy.blueGreen.namespaces' : 'strategy.blueGreen.colorLabel';
  const liveWorkloads = byColour.get(live) ?? [];
  if (liveWorkloads.length === 0)
    return {
      invalid: o.namespaces
        ? `${field}: no selected workload in ${live}, where Service ${o.activeService} points`
        : `${field}: no selected workload has ${o.colorLabel}=${live}, the colour Service ${o.activeService} selects`,
    };
  if (o.namespaces && !o.namespaces.includes(live))
    return {
      invalid: `strategy.blueGreen.activeService: Service ${o.activeService} points into ${live}, which is not one of ${o.namespaces.join(', ')}`,
    };
  const others = [...byColour.keys()].filter((c) => c !== live);
  const idle = o.namespaces ? o.namespaces.find((n) => n !== live) : others[0];
  if (others.length > 1)
    return {
      invalid: `${field}: the selected workloads have ${[live, ...others].join(', ')}; BlueGreen needs exactly two colours`,
    };
  const idleWorkloads = idle === undefined ? [] : (byColour.get(idle) ?? []);
  if (idle === undefined || idleWorkloads.length === 0)
    return {
      invalid: o.namespaces
        ? `${field}: no selected workload in ${idle ?? 'the second namespace'}; BlueGreen needs one in each`
        : `${field}: every selected workload has ${o.colorLabel}=${live}; BlueGreen needs a second colour`,
    };
  return { live, idle, liveWorkloads, idleWorkloads };
}

/** The live workload an idle one stands in for: same name with the colour swapped, else the largest. */
function counterpart(w: Workload, colours: Pick<Colours, 'live' | 'idle'>, live: Workload[]) {
  const twin = live.find(
    (l) => l.kind === w.kind && l.name === w.name.replace(colours.idle, colours.live),
  );
  return twin ?? [...live].sort((a, b) => replicasOf(b) - replicasOf(a))[0];
}

const stateOf = (rollout: RolloutState): BlueGreenState | undefined => rollout.blueGreen;

/**
 * BlueGreen (as Argo Rollouts' blue-green, with plain Services): the idle colour gets the new
 * image and the live colour's replica count; once it is ready the preview Service points at it,
 * the PrePromotion checks run against it (CVM_PREVIEW_URL), optionally a person promotes, then
 * the active Service is switched; the PostPromotion checks run with the traffic on it; after
 * `scaleDownDelaySeconds` the old colour goes to 0. A failure before the switch leaves the
 * traffic where it was; one after it switches back. Pure.
 */
export const blueGreenStrategy: RolloutStrategy = {
  steps: (spec) => stages(spec).length,
  firstPhase: () => 'Patching',
  services(spec, namespace) {
    const o = optionsOf(spec);
    return [o.activeService, ...(o.previewService ? [o.previewService] : [])].map((name) => ({
      namespace,
      name,
    }));
  },
  prepare(facts) {
    const colours = findColours(facts);
    if ('invalid' in colours) return colours;
    const o = optionsOf(facts.spec);
    return {
      state: {
        blueGreen: {
          activeService: o.activeService,
          ...(o.previewService ? { previewService: o.previewService } : {}),
          liveColor: colours.live,
          newColor: colours.idle,
        },
      },
    };
  },
  tracked(facts) {
    const colours = findColours(facts);
    return 'invalid' in colours ? undefined : colours.liveWorkloads;
  },
  next(facts, rollout) {
    const bg = stateOf(rollout);
    if (!bg) return end('Failed', Reason.InvalidSpec, 'the BlueGreen rollout lost its colours');
    const o = optionsOf(facts.spec);
    if (!bg.switchedAt && rollout.phase !== 'RollingBack') {
      const giveWay = supersede(facts, rollout);
      if (giveWay) return giveWay;
    }
    switch (rollout.phase) {
      case 'Patching':
        return deploy(facts, rollout, bg);
      case 'Waiting': {
        if (!facts.observed) return { type: 'observe' };
        const progress = workloadsProgress(withRole(rollout.workloads, 'new'), facts.observed);
        if (progress.state === 'done') return afterReady(facts, rollout, bg);
        const deadlineMs = timeOf(rollout.progressDeadlineAt);
        if (progress.state === 'failed' || facts.now.getTime() >= deadlineMs)
          return abort(
            Reason.ProgressDeadlineExceeded,
            progress.state === 'failed'
              ? progress.message
              : `${bg.newColor} did not become ready within spec.rollback.progressDeadlineSeconds: ${progress.message}`,
          );
        return {
          type: 'wait',
          untilMs: deadlineMs,
          reason: Reason.WaitingForRollout,
          message: `${bg.newColor}: ${progress.message}`,
        };
      }
      case 'Switching': {
        if (bg.previewService && !bg.previewedAt)
          return {
            type: 'route',
            service: bg.previewService,
            target: targetOf(o, bg.newColor, bg.activeService),
            then: afterPreview(facts, rollout, { ...bg, previewedAt: iso(facts.now) }),
          };
        return {
          type: 'route',
          service: bg.activeService,
          target: targetOf(o, bg.newColor, bg.activeService),
          then: afterSwitch(facts, rollout, { ...bg, switchedAt: facts.now.toISOString() }),
        };
      }
      case 'Verifying':
        return bg.switchedAt
          ? verifyNext(facts, rollout, afterVerifiedLive(facts, rollout, bg), {
              when: 'PostPromotion',
              onFail: (message) => abort(Reason.VerifyFailed, message),
            })
          : verifyNext(facts, rollout, beforeSwitch(facts, rollout), {
              onFail: (message) => abort(Reason.VerifyFailed, message),
            });
      case 'Paused':
        return {
          type: 'wait',
          untilMs: Number.POSITIVE_INFINITY,
          reason: Reason.RolloutPaused,
          message: `${bg.newColor} runs ${rollout.version} and waits for a person to promote it (cvm.dev/request=promote)`,
        };
      case 'ScalingDown':
        return scaleDown(facts, rollout, bg);
      case 'RollingBack':
        return rollBack(facts, rollout, bg);
      case 'Analyzing':
      case 'Recording':
        throw new Error(`a BlueGreen rollout is never ${rollout.phase} here`);
    }
  },
  request(facts, rollout, action): RequestOutcome {
    const bg = stateOf(rollout);
    if (action === 'abort') {
      if (rollout.phase === 'RollingBack')
        return { refused: 'the rollout is already rolling back' };
      return {
        to: abortTransition(Reason.RolloutAborted, 'aborted by request'),
        message: bg?.switchedAt
          ? `aborted: traffic goes back to ${bg.liveColor}`
          : `aborted: traffic stays on ${bg?.liveColor ?? 'the live colour'}`,
      };
    }
    if (rollout.phase !== 'Paused')
      return { refused: `the rollout is ${rollout.phase}; ${action} applies while it is Paused` };
    return {
      to: {
        phase: 'Switching',
        step: stepOf(facts.spec, 'switch'),
        message: `${action}d by request`,
      },
      message: `${action}d: switching traffic to ${bg?.newColor ?? 'the new colour'}`,
    };
  },
};

function deploy(facts: RolloutFacts, rollout: RolloutState, bg: BlueGreenState): RolloutAction {
  if (!facts.selected) return { type: 'resolve' };
  const o = optionsOf(facts.spec);
  const ofColour = (colour: string) =>
    facts.selected?.filter((w) => colourOfWorkload(o, w) === colour) ?? [];
  const idle = ofColour(bg.newColor);
  const live = ofColour(bg.liveColor);
  if (idle.length === 0)
    return end(
      'Failed',
      Reason.InvalidSpec,
      `no selected workload of colour ${bg.newColor} is left`,
    );
  const ns = (w: Workload) => (o.namespaces ? w.namespace : undefined);
  const changes: WorkloadChange[] = [
    ...idle.map((w) => ({
      ...remember(w, 'new', ns(w)),
      image: rollout.image,
      replicas: replicasOf(counterpart(w, { live: bg.liveColor, idle: bg.newColor }, live) ?? w),
    })),
    ...live.map((w) => remember(w, 'live', ns(w))),
  ];
  return {
    type: 'apply',
    changes,
    then: {
      phase: 'Waiting',
      step: stepOf(facts.spec, 'deploy'),
      message: `deploying ${rollout.version} to ${bg.newColor}`,
    },
  };
}

/** The new colour is ready: preview, verify, pause or switch, whichever comes first. */
function afterReady(facts: RolloutFacts, rollout: RolloutState, bg: BlueGreenState): RolloutAction {
  const o = optionsOf(facts.spec);
  if (o.previewService)
    return {
      type: 'promote',
      to: {
        phase: 'Switching',
        step: stepOf(facts.spec, 'preview'),
        message: `${bg.newColor} is ready; pointing ${o.previewService} at it`,
      },
    };
  return { type: 'promote', to: afterPreview(facts, rollout, bg) };
}

function afterPreview(
  facts: RolloutFacts,
  rollout: RolloutState,
  bg: BlueGreenState,
): RolloutTransition {
  if (checksOf(facts, 'PrePromotion').length > 0)
    return {
      phase: 'Verifying',
      step: stepOf(facts.spec, 'verify'),
      blueGreen: bg,
      message: `verifying ${rollout.version} on ${bg.newColor}`,
    };
  return { ...beforeSwitch(facts, rollout), blueGreen: bg };
}

function beforeSwitch(facts: RolloutFacts, rollout: RolloutState): RolloutTransition {
  const o = optionsOf(facts.spec);
  const colour = rollout.blueGreen?.newColor ?? 'the new colour';
  return o.autoPromote
    ? {
        phase: 'Switching',
        step: stepOf(facts.spec, 'switch'),
        message: `switching ${o.activeService} to ${colour}`,
      }
    : {
        phase: 'Paused',
        step: stepOf(facts.spec, 'pause'),
        message: `${colour} waits for a person to promote it`,
      };
}

function afterSwitch(
  facts: RolloutFacts,
  rollout: RolloutState,
  bg: BlueGreenState,
): RolloutTransition {
  if (checksOf(facts, 'PostPromotion').length > 0)
    return {
      phase: 'Verifying',
      step: stepOf(facts.spec, 'verify-after'),
      blueGreen: bg,
      message: `${bg.activeService} sends traffic to ${bg.newColor}; verifying it live`,
    };
  return { ...afterVerifiedLive(facts, rollout, bg), blueGreen: bg };
}

function afterVerifiedLive(
  facts: RolloutFacts,
  rollout: RolloutState,
  bg: BlueGreenState,
): RolloutTransition {
  const o = optionsOf(facts.spec);
  if (o.scaleDown)
    return {
      phase: 'ScalingDown',
      step: stepOf(facts.spec, 'scale-down'),
      message: `${bg.newColor} is live; ${bg.liveColor} is scaled down ${o.scaleDownDelaySeconds}s after the switch`,
    };
  return succeeded(rollout, bg);
}

function succeeded(rollout: RolloutState, bg: BlueGreenState): RolloutTransition {
  return {
    phase: 'Recording',
    result: 'Succeeded',
    reason: Reason.RolloutSucceeded,
    message: `${rollout.version} is live on ${bg.newColor} (${withRole(rollout.workloads, 'new').map(nameOf).join(', ')})`,
  };
}

function scaleDown(facts: RolloutFacts, rollout: RolloutState, bg: BlueGreenState): RolloutAction {
  const o = optionsOf(facts.spec);
  // switchedAt keeps its milliseconds: the delay is never cut short by rounding.
  const untilMs = timeOf(bg.switchedAt) + o.scaleDownDelaySeconds * 1000;
  if (facts.now.getTime() < untilMs)
    return {
      type: 'wait',
      untilMs,
      reason: Reason.ScalingDown,
      message: `${bg.newColor} is live; ${bg.liveColor} is scaled down at ${iso(new Date(untilMs))}`,
    };
  if (!facts.observed) return { type: 'observe' };
  const old = withRole(rollout.workloads, 'live');
  if (old.every((e) => reached(observedOf(facts, e), facts.spec.container, { replicas: 0 })))
    return { type: 'promote', to: succeeded(rollout, bg) };
  return {
    type: 'apply',
    changes: old.map((e) => ({
      kind: e.kind,
      name: e.name,
      ...(e.namespace ? { namespace: e.namespace } : {}),
      role: 'live' as const,
      replicas: 0,
    })),
    then: succeeded(rollout, bg),
  };
}

/** After a failure or an abort: traffic back to the live colour (if it had moved), the new colour scaled back. */
function rollBack(facts: RolloutFacts, rollout: RolloutState, bg: BlueGreenState): RolloutAction {
  const o = optionsOf(facts.spec);
  if (bg.switchedAt && !bg.switchedBackAt)
    return {
      type: 'route',
      service: bg.activeService,
      target: targetOf(o, bg.liveColor, bg.activeService),
      then: {
        phase: 'RollingBack',
        blueGreen: { ...bg, switchedBackAt: iso(facts.now) },
        message: `switched ${bg.activeService} back to ${bg.liveColor}`,
      },
    };
  if (!facts.observed) return { type: 'observe' };
  const fresh = withRole(rollout.workloads, 'new').map((e) => ({
    entry: e,
    replicas: o.scaleDown ? 0 : (e.previousReplicas ?? 0),
  }));
  const why = rollout.failure ?? rollout.message;
  const to: RolloutTransition = bg.switchedAt
    ? {
        phase: 'Recording',
        result: 'RolledBack',
        reason: Reason.RolledBack,
        message: `${why}; traffic switched back to ${bg.liveColor}`,
      }
    : {
        phase: 'Recording',
        result: rollout.reason === Reason.RolloutSuperseded ? 'Superseded' : 'Failed',
        reason: rollout.reason ?? Reason.RolloutFailed,
        message: `${why}; traffic stayed on ${bg.liveColor}`,
      };
  if (
    fresh.every(({ entry, replicas }) =>
      reached(observedOf(facts, entry), facts.spec.container, { replicas }),
    )
  )
    return { type: 'promote', to };
  return {
    type: 'apply',
    changes: fresh.map(({ entry, replicas }) => ({
      kind: entry.kind,
      name: entry.name,
      ...(entry.namespace ? { namespace: entry.namespace } : {}),
      role: 'new' as const,
      replicas,
    })),
    then: to,
  };
}

function abortTransition(reason: Reason, failure: string): RolloutTransition {
  return { phase: 'RollingBack', reason, failure, message: `${failure}; rolling back` };
}

const abort = (reason: Reason, failure: string): RolloutAction => ({
  type: 'promote',
  to: abortTransition(reason, failure),
});

const end = (result: 'Failed', reason: Reason, message: string): RolloutAction => ({
  type: 'promote',
  to: { phase: 'Recording', result, reason, message },
});
