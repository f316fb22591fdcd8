import type {
  ContainerVersionSpec,
  Measurement,
  MetricRun,
  RolloutState,
} from '../api/container-version.js';
import { Reason } from '../api/conditions.js';
import type { Logger } from '../observability/logger.js';
import { cvReference } from './cv-status.js';
import type { EventRecorder, MetricChecks, StoredContainerVersion } from './ports.js';
import type { WorkloadsChange } from './rollout-effects.js';
import type { RolloutAction } from './rollout-facts.js';
import { iso } from './rollout-record.js';
import type { RolloutObserver } from './rollout-runner.js';
import { canarySteps, metricsOfStep } from './strategies/canary.js';
import type { TrafficEffects } from './traffic-effects.js';

/** Measurements of one metric kept in `status.rollout.canary.metrics`. */
const MEASUREMENTS_KEPT = 10;

export interface TrafficStepsDeps {
  traffic: TrafficEffects;
  events: EventRecorder;
  metricChecks?: MetricChecks;
  observer?: RolloutObserver;
  spec: ContainerVersionSpec;
  log: Logger;
  now: () => Date;
}

/**
 * The BlueGreen and Canary steps of one job run: the effects of `apply`, `route` and `measure`
 * with their Events and metrics, and the Events of their transitions (paused, judged, rolling
 * back). Each resolves to the rollout's change; the run persists it.
 */
export class TrafficSteps {
  constructor(private readonly deps: TrafficStepsDeps) {}

  /** BlueGreen: CVM_PREVIEW_URL and CVM_ACTIVE_URL for the verify checks (`http://<svc>.<ns>.svc.cluster.local[:port]`). */
  async serviceUrls(cv: StoredContainerVersion): Promise<Record<string, string>> {
    const bg = cv.status?.rollout?.blueGreen;
    if (!bg) return {};
    const namespace = cv.metadata.namespace;
    const names = { CVM_ACTIVE_URL: bg.activeService, CVM_PREVIEW_URL: bg.previewService };
    const services = await this.deps.traffic.services(
      Object.values(names)
        .filter((n): n is string => n !== undefined)
        .map((name) => ({ namespace, name })),
    );
    const env: Record<string, string> = {};
    for (const [key, name] of Object.entries(names)) {
      if (!name) continue;
      const port = services.get(`${namespace}/${name}`)?.port;
      env[key] =
        `http://${name}.${namespace}.svc.cluster.local${port && port !== 80 ? `:${port}` : ''}`;
    }
    return env;
  }

  /** `apply`, with the Events of a canary weight set and an old colour scaled down. */
  async apply(
    cv: StoredContainerVersion,
    rollout: RolloutState,
    action: Extract<RolloutAction, { type: 'apply' }>,
  ): Promise<WorkloadsChange> {
    const change = await this.deps.traffic.apply(
      cv,
      this.deps.spec,
      rollout,
      action.changes,
      action.then,
    );
    const weight = action.then.canary?.weight;
    if (weight !== undefined && weight > 0 && weight !== rollout.canary?.weight)
      await this.deps.events.record(
        cvReference(cv),
        'Normal',
        Reason.CanaryWeightSet,
        `canary at ${weight}%: ${action.then.canary?.canaryReplicas ?? 0} of ${rollout.canary?.total ?? 0} replicas run ${rollout.version}`,
      );
    const scaledDown = action.changes.filter((c) => c.replicas === 0 && c.role === 'live');
    if (scaledDown.length > 0)
      await this.deps.events.record(
        cvReference(cv),
        'Normal',
        Reason.ScaledDown,
        `${rollout.blueGreen?.liveColor ?? 'the old colour'} scaled down to 0: ${scaledDown.map((c) => c.name).join(', ')}`,
      );
    await this.transitionEvents(cv, rollout, action.then);
    return change;
  }

  /** `route`: the Service switched, with its Event and metric. */
  async route(
    cv: StoredContainerVersion,
    rollout: RolloutState,
    action: Extract<RolloutAction, { type: 'route' }>,
  ): Promise<WorkloadsChange> {
    const bg = rollout.blueGreen;
    const to =
      'selector' in action.target
        ? JSON.stringify(action.target.selector)
        : action.target.externalName;
    const back = action.then.blueGreen?.switchedBackAt && !bg?.switchedBackAt;
    const preview = action.service === bg?.previewService && action.service !== bg?.activeService;
    const reason = back
      ? Reason.TrafficSwitchedBack
      : preview
        ? Reason.PreviewSwitched
        : Reason.TrafficSwitched;
    const colour = back ? bg?.liveColor : bg?.newColor;
    this.deps.observer?.switched?.(reason);
    await this.deps.traffic.route(
      cv,
      action.service,
      action.target,
      reason,
      `Service ${action.service} now sends traffic to ${colour ?? to} (${to})`,
    );
    return { rollout: action.then };
  }

  /** `measure`: one measurement of each metric due; the analysis of the step keeps the last few. */
  async measure(rollout: RolloutState, names: readonly string[]): Promise<WorkloadsChange> {
    const checks = this.deps.metricChecks;
    if (!checks) throw new Error('this cvm has no metric checks configured (metricChecks)');
    const cs = rollout.canary;
    if (!cs) throw new Error('only a Canary rollout measures metrics');
    const step = canarySteps(this.deps.spec)[rollout.step - 1];
    const runs: MetricRun[] = [...(cs.metrics ?? [])];
    for (const metric of metricsOfStep(this.deps.spec, step).filter((m) =>
      names.includes(m.name),
    )) {
      const measured = await checks.measure({
        name: metric.name,
        address: metric.prometheus.address,
        query: metric.prometheus.query,
        successCondition: metric.successCondition,
        ...(metric.failureCondition ? { failureCondition: metric.failureCondition } : {}),
        timeoutSeconds: metric.prometheus.timeoutSeconds,
      });
      const measurement: Measurement = { at: iso(this.deps.now()), ...measured };
      const index = runs.findIndex((r) => r.name === metric.name);
      const run = index >= 0 ? runs[index] : undefined;
      const next: MetricRun = {
        name: metric.name,
        measurements: [...(run?.measurements ?? []), measurement].slice(-MEASUREMENTS_KEPT),
        count: (run?.count ?? 0) + 1,
        failures: (run?.failures ?? 0) + (measured.phase === 'Successful' ? 0 : 1),
      };
      if (index >= 0) runs[index] = next;
      else runs.push(next);
      this.deps.log.info({ metric: metric.name, ...measured }, 'metric measured');
    }
    return { rollout: { canary: { ...cs, metrics: runs } } };
  }

  /** Events of BlueGreen and Canary steps: paused, judged, rolling back. */
  async transitionEvents(
    cv: StoredContainerVersion,
    rollout: RolloutState,
    to: Partial<RolloutState>,
  ) {
    const record = (type: 'Normal' | 'Warning', reason: Reason, message: string) =>
      this.deps.events.record(cvReference(cv), type, reason, message);
    const judgement = to.canary?.judgement;
    if (judgement && judgement.at !== rollout.canary?.judgement?.at)
      this.deps.observer?.judged?.(judgement.result);
    if (judgement && judgement.at !== rollout.canary?.judgement?.at)
      await record(
        judgement.result === 'Passed' ? 'Normal' : 'Warning',
        judgement.result === 'Passed' ? Reason.AnalysisPassed : Reason.AnalysisFailed,
        judgement.message,
      );
    if (to.phase === 'Paused' && rollout.phase !== 'Paused')
      await record('Normal', Reason.RolloutPaused, to.message ?? 'paused');
    if (
      to.phase === 'RollingBack' &&
      rollout.phase !== 'RollingBack' &&
      rollout.strategy !== 'Rolling'
    )
      await (to.reason === Reason.RolloutSuperseded
        ? record('Normal', Reason.RolloutSuperseded, to.failure ?? to.message ?? 'superseded')
        : record('Warning', Reason.RolloutFailed, to.failure ?? to.message ?? 'rolling back'));
  }
}
