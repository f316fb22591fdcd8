import { Reason } from '../api/conditions.js';
import { validateSpec } from '../api/validate.js';
import type { Logger } from '../observability/logger.js';
import { RetryLaterError } from '../queue/job-errors.js';
import type { RolloutJobData } from '../queue/rollout-queue.js';
import type { RegistryClient } from '../registry/registry-client.js';
import { blockedConditions, writeStatus } from './cv-status.js';
import type {
  ContainerVersionStore,
  EventRecorder,
  HistoryStore,
  MetricChecks,
  NodeInfo,
  Notifier,
  PodReader,
  ServiceClient,
  StoredContainerVersion,
  VerifyRunner,
  WorkloadClient,
} from './ports.js';
import type { RunOutcome } from './rollout-facts.js';
import { RolloutRun, StillBlockedError } from './rollout-run.js';
import { reportStepFailed, stepFailure } from './run-status.js';

/** What the runner reports to metrics. */
export interface RolloutObserver {
  patched(data: RolloutJobData): void;
  finished(result: RunOutcome, durationSeconds: number | undefined): void;
  /** A rollout entered `phase`. */
  step?(strategy: string, phase: string): void;
  /** A canary was judged. */
  judged?(result: 'Passed' | 'Failed'): void;
  /** A BlueGreen Service was switched (PreviewSwitched, TrafficSwitched, TrafficSwitchedBack). */
  switched?(reason: string): void;
  /** A cvm.dev/request was handled. */
  requested?(action: string, result: 'Applied' | 'Refused'): void;
}

export interface RolloutRunnerDeps {
  store: ContainerVersionStore;
  workloads: WorkloadClient;
  nodes: NodeInfo;
  events: EventRecorder;
  history: HistoryStore;
  verify: VerifyRunner;
  /** BlueGreen: the Services it switches. */
  services: ServiceClient;
  /** Canary: the canary's Pods (restarts). */
  pods: PodReader;
  /** Canary: the analysis' metric checks. */
  metricChecks?: MetricChecks;
  registries: { for(registryHost: string): RegistryClient };
  logger: Logger;
  now: () => Date;
  /** Longest a waiting rollout sleeps without a watch event, ms (CVM_ROLLOUT_RECHECK_MS). Default 10 000. */
  recheckMs?: number;
  /** PEM public key: when set, images must carry a cosign signature made with it. */
  cosignPublicKey?: string;
  observer?: RolloutObserver;
  /** Where rollouts tell people what happened (started, succeeded, failed, rolled back, blocked). None: nobody is told. */
  notifier?: Notifier;
}

/**
 * One job run of the rollout engine (ADR 0005) for one ContainerVersion: read the CV, then
 * decide ({@link decideRollout}), act, and decide again, until the rollout has to wait or nothing
 * is left to do. Waiting ends the run with a {@link RetryLaterError}: the queue holds the job as
 * delayed (no worker, no lock) until its recheck time, or until a watch event on the rollout's
 * workloads promotes it. Every action persists its result in the CV's `status.rollout` before
 * the next is decided, so a run that dies at any point is continued by the next run, in any
 * worker, from the state it left.
 */
export class RolloutRunner {
  constructor(private readonly deps: RolloutRunnerDeps) {}

  async run(data: RolloutJobData): Promise<RunOutcome> {
    const log = this.deps.logger.child({
      cv: `${data.namespace}/${data.name}`,
      trigger: data.trigger.kind,
    });
    const cv = await this.deps.store
      .get({ namespace: data.namespace, name: data.name })
      .catch(async (error: unknown) => {
        // Without the CV its conditions cannot be merged: the Event alone says so.
        await this.#stepFailed(unread(data), error, log);
        throw error;
      });
    if (!cv || cv.metadata.uid !== data.uid) return 'Gone';
    const validation = validateSpec(cv.spec);
    if (!validation.ok) {
      await writeStatus(
        this.deps,
        cv,
        {},
        blockedConditions(Reason.InvalidSpec, validation.message, cv.metadata.generation),
      );
      return 'Blocked';
    }
    if (cv.status?.rollout) log.debug({ phase: cv.status.rollout.phase }, 'resuming rollout');
    const run = new RolloutRun(this.deps, validation.value, data, log, cv.metadata.generation);
    try {
      return await run.loop(cv);
    } catch (error) {
      if (!(error instanceof RetryLaterError) && !(error instanceof StillBlockedError))
        await this.#stepFailed(cv, error, log);
      throw error;
    }
  }

  /**
   * A step that could not finish (an API server or registry that failed or hung past its
   * timeout) gives the rollout back to the queue, which retries it with backoff; the CV says so
   * meanwhile.
   */
  async #stepFailed(cv: StoredContainerVersion, error: unknown, log: Logger): Promise<void> {
    const failure = stepFailure(error);
    log.warn({ reason: failure.reason, err: { message: failure.message } }, 'rollout step failed');
    await reportStepFailed(this.deps, cv, failure);
  }
}

/** The CV of a job whose read failed, as far as the job knows it (no status: nothing to merge into). */
function unread(data: RolloutJobData): StoredContainerVersion {
  return {
    apiVersion: 'cvm.dev/v1',
    kind: 'ContainerVersion',
    metadata: {
      namespace: data.namespace,
      name: data.name,
      uid: data.uid,
      generation: 0,
      resourceVersion: '',
    },
    spec: undefined,
  };
}
