import { Reason } from '../api/conditions.js';
import type { ContainerVersionSpec } from '../api/container-version.js';
import { validateSpec } from '../api/validate.js';
import type { Runnable } from '../lifecycle/runnable.js';
import type { Logger } from '../observability/logger.js';
import { OutageLog } from '../observability/outage-log.js';
import type { RolloutSink } from '../queue/rollout-queue.js';
import { digestOfImage } from '../workers/plan-container-patch.js';
import type {
  EventRecorder,
  ServiceClient,
  ServiceView,
  StoredContainerVersion,
  Workload,
  WorkloadClient,
} from '../workers/ports.js';
import { workloadReference } from '../workers/rollout-facts.js';
import { STRATEGIES } from '../workers/strategies/strategies.js';

export interface DriftDetectorDeps {
  cvs: () => StoredContainerVersion[];
  workloads: WorkloadClient;
  /** BlueGreen: the active Service tells the live colour (the only one that must run the current digest). */
  services?: ServiceClient;
  events: EventRecorder;
  rollouts: RolloutSink;
  logger: Logger;
  intervalMs: number;
}

/** The selected workloads whose container does not run the CV's current digest; pure. */
export function driftedWorkloads(
  workloads: readonly Workload[],
  container: string,
  currentDigest: string,
): Workload[] {
  return workloads.filter((w) => {
    const c = [...w.containers, ...w.initContainers].find((x) => x.name === container);
    return c !== undefined && digestOfImage(c.image) !== currentDigest;
  });
}

/**
 * Self-healing: every `intervalMs` each CV that has a current digest and no rollout in progress is
 * compared with its selected workloads; one whose container runs something else (changed by hand,
 * or a new workload that matches the selector) gets a `DriftCorrected` Event and a rollout back to
 * the CV's version. Suspended CVs are left alone. One list request per CV per interval.
 */
export class DriftDetector implements Runnable {
  readonly name = 'drift-detector';
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;

  constructor(private readonly deps: DriftDetectorDeps) {}

  start(): Promise<void> {
    const failures = new OutageLog(this.deps.logger, {
      failed: 'drift check failed',
      recovered: 'drift checks work again',
    });
    this.#timer = setInterval(() => {
      this.#running ??= this.check()
        .then(() => failures.recovered())
        .catch((error: unknown) => failures.failed(error))
        .finally(() => (this.#running = undefined));
    }, this.deps.intervalMs);
    return Promise.resolve();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running;
  }

  /**
   * The selected workloads that must run the current digest: all of them, except under
   * BlueGreen (the live colour only: the other one keeps the previous version on purpose) and
   * Canary (the stable workload).
   */
  async #tracked(cv: StoredContainerVersion, spec: ContainerVersionSpec): Promise<Workload[]> {
    const ns = cv.metadata.namespace;
    const namespaces = (spec.strategy.type === 'BlueGreen' &&
      spec.strategy.blueGreen?.namespaces) || [ns];
    const selected = (
      await Promise.all(namespaces.map((n) => this.deps.workloads.list(n, spec.selector)))
    ).flat();
    const strategy = STRATEGIES[spec.strategy.type];
    if (!strategy?.tracked) return selected;
    const keys = strategy.services?.(spec, ns) ?? [];
    const services = new Map<string, ServiceView | null>();
    if (this.deps.services)
      for (const key of keys)
        services.set(`${key.namespace}/${key.name}`, await this.deps.services.get(key));
    // Without the Services (or with a setup the strategy refuses) nothing is judged as drift.
    return [...(strategy.tracked({ cv, spec, selected, services, now: new Date() }) ?? [])];
  }

  /** One pass over every CV; returns how many rollouts it enqueued. */
  async check(): Promise<number> {
    let enqueued = 0;
    for (const cv of this.deps.cvs()) {
      const validation = validateSpec(cv.spec);
      const digest = cv.status?.currentDigest;
      if (
        !validation.ok ||
        validation.value.suspend ||
        !digest ||
        cv.status?.lastRollout?.result === 'Progressing'
      )
        continue;
      const spec = validation.value;
      const drifted = driftedWorkloads(await this.#tracked(cv, spec), spec.container, digest);
      if (drifted.length === 0) continue;
      for (const w of drifted) {
        await this.deps.events.record(
          workloadReference(w),
          'Normal',
          Reason.DriftCorrected,
          `${spec.container} does not run ${cv.status?.currentImage ?? digest}; ContainerVersion ${cv.metadata.name} rolls it back`,
        );
      }
      await this.deps.rollouts.enqueue({
        namespace: cv.metadata.namespace,
        name: cv.metadata.name,
        uid: cv.metadata.uid,
        trigger: { kind: 'drift', digest, receivedAt: new Date().toISOString() },
      });
      enqueued += 1;
      this.deps.logger.info(
        {
          cv: `${cv.metadata.namespace}/${cv.metadata.name}`,
          workloads: drifted.map((w) => w.name),
        },
        'drift found',
      );
    }
    return enqueued;
  }
}
