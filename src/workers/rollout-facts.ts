import type {
  ContainerVersionSpec,
  RolloutFinalResult,
  RolloutPhase,
  RolloutState,
  RolloutWorkload,
} from '../api/container-version.js';
import type { ConditionUpdate, Reason } from '../api/conditions.js';
import type {
  PodView,
  ServiceTarget,
  ServiceView,
  StoredContainerVersion,
  VerifyJobState,
  Workload,
} from './ports.js';

/**
 * What a rollout decision looks at: the CV as read now and whatever this run has read so far.
 * A field left undefined was not read yet; the decision asks for it with `resolve` or `observe`.
 */
export interface RolloutFacts {
  cv: StoredContainerVersion;
  /** The CV's spec, validated. */
  spec: ContainerVersionSpec;
  /** The followed tag's digest in the registry now; `null` when the tag does not exist. */
  resolved?: { digest: string } | null;
  /** The workloads the selector matches now. */
  selected?: readonly Workload[];
  /** The rollout's workloads as read now (`null`: deleted), by {@link workloadKey}. */
  observed?: ReadonlyMap<string, Workload | null>;
  /** The rollout's verify Jobs as read now, by Job name. */
  verifyJobs?: ReadonlyMap<string, VerifyJobState>;
  /** The Services a BlueGreen rollout switches, as read now (`null`: missing), by `namespace/name`. */
  services?: ReadonlyMap<string, ServiceView | null>;
  /**
   * This run was brought by a push, poll or sync, not by a watch event or a recheck: a strategy
   * that can still give way (a canary before promotion, BlueGreen before the switch) resolves
   * the tag to see whether a newer digest supersedes its rollout.
   */
  news?: boolean;
  /** A canary's Pods as read now, by {@link workloadKey} of their workload. */
  pods?: ReadonlyMap<string, readonly PodView[]>;
  now: Date;
}

/** A change of one workload's image and/or replicas, as a strategy asks for it. */
export interface WorkloadChange {
  kind: Workload['kind'];
  name: string;
  /** Set when the workload is not in the CV's namespace. */
  namespace?: string;
  role?: RolloutWorkload['role'];
  /** The image its container gets (the previous one is remembered the first time). */
  image?: string;
  /** Whether `image` is a rollback (restoring what ran before), not a new version. */
  restore?: boolean;
  /** `spec.replicas` it gets (the previous value is remembered the first time). */
  replicas?: number;
}

/**
 * A `rollback:<digest>` (or `force-rollback:`) request as the decision accepted it: handled in the
 * write that starts the rollback (or refuses its image), never apart from it.
 */
export interface RollbackRequest {
  value: string;
  action: string;
  /** Digests held back: added to `failedDigests`, so the tag does not bring them back at once. */
  hold: string[];
  /** `force-rollback` of a digest in `failedDigests`: it is forgotten there. */
  forget?: string;
}

/** How a job run ends when nothing is left to do now. */
export type RunOutcome = RolloutFinalResult | 'Unchanged' | 'Blocked' | 'Gone' | 'Suspended';

/** A change of a rollout in flight, persisted in `status.rollout` (merged into it). */
export type RolloutTransition = Partial<RolloutState> & { phase: RolloutPhase };

/**
 * The next thing to do for one ContainerVersion. Only `resolve` and `observe` read; every other
 * action writes (the CV's status, workloads, Jobs, history) and is followed by a fresh decision.
 */
export type RolloutAction =
  /** Read the tag's digest in the registry and list the selected workloads. */
  | { type: 'resolve' }
  /** Read what the rollout waits on: its workloads or its verify Jobs. */
  | { type: 'observe' }
  /**
   * Check the image (`heal`: the CV's current image, already checked) and start the rollout;
   * `rollback`: a person's rollback request, recorded in the same write as the start.
   */
  | { type: 'validate'; digest: string; heal: boolean; rollback?: RollbackRequest }
  /** Start the verify Jobs of these checks. */
  | { type: 'verify'; checks: string[] }
  /** Patch the selected workloads to the rollout's image. */
  | { type: 'patch' }
  /** Change these workloads' image and/or replicas, then move the rollout on. */
  | { type: 'apply'; changes: WorkloadChange[]; then: RolloutTransition }
  /** Point a Service at other Pods (or another name), then move the rollout on. */
  | { type: 'route'; service: string; target: ServiceTarget; then: RolloutTransition }
  /** Take a measurement of these metric checks (canary analysis), then decide again. */
  | { type: 'measure'; metrics: string[] }
  /**
   * Handle the `cvm.dev/request` annotation: record it in `status.lastRequest` in the same write
   * as its effect (`to`: the rollout's transition; `forget`: a failed digest retried).
   */
  | {
      type: 'request';
      value: string;
      action: string;
      result: 'Applied' | 'Refused';
      message: string;
      to?: RolloutTransition;
      forget?: string;
    }
  /** Nothing to do until something changes; look again at `untilMs` at the latest. */
  | {
      type: 'wait';
      untilMs: number;
      reason: Reason;
      message: string;
      /** Fields of the rollout to keep meanwhile (what the wait saw: a canary's actual weight). */
      update?: Partial<RolloutState>;
    }
  /** Move the rollout on (next phase or step, or to Recording with its result). */
  | { type: 'promote'; to: RolloutTransition }
  /** The rollout failed: patch the workloads back to their previous images. */
  | { type: 'rollback'; reason: Reason; message: string }
  /** Write history, status, Events and metrics of the finished rollout, and clear it. */
  | { type: 'record' }
  /**
   * Stop here, writing these conditions (`retry`: the job should run again with backoff;
   * `knownBad`: the tag points at this digest, which failed before, so nothing is rolled out).
   */
  | {
      type: 'done';
      outcome: RunOutcome;
      conditions: ConditionUpdate[];
      retry?: string;
      knownBad?: string;
    };

/** `Deployment/api` (`Deployment/shop-blue/api` in another namespace): how a rollout names its workloads. */
export const workloadKey = (w: { kind: string; name: string; namespace?: string }): string =>
  w.namespace ? `${w.kind}/${w.namespace}/${w.name}` : `${w.kind}/${w.name}`;

/** The ObjectReference of a workload, for Events. */
export function workloadReference(w: Pick<Workload, 'kind' | 'namespace' | 'name' | 'uid'>) {
  return {
    apiVersion: w.kind === 'CronJob' ? 'batch/v1' : 'apps/v1',
    kind: w.kind,
    namespace: w.namespace,
    name: w.name,
    uid: w.uid,
  };
}

/** Whether the workload's labels carry every pair of `selector` (a CV's `spec.selector`). */
export function selectsWorkload(selector: Record<string, string>, w: Workload): boolean {
  const labels = (w.object as { metadata?: { labels?: Record<string, string> } } | undefined)
    ?.metadata?.labels;
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

/** The named container (or initContainer) of a workload, if it has one. */
export function containerOf(w: Workload, name: string) {
  return w.containers.find((c) => c.name === name) ?? w.initContainers.find((c) => c.name === name);
}
