import type { Condition } from './container-version.js';

/** Condition types of a ContainerVersion. Status is a public API: never rename these. */
export const ConditionType = {
  /** The workloads run the CV's current version and nothing is wrong. */
  Ready: 'Ready',
  /** A rollout is under way. */
  Progressing: 'Progressing',
  /** The last rollout failed or the spec cannot be acted on. */
  Degraded: 'Degraded',
  /** `spec.suspend` is true. */
  Suspended: 'Suspended',
} as const;
export type ConditionType = (typeof ConditionType)[keyof typeof ConditionType];

/**
 * CamelCase reasons of conditions and Kubernetes Events. Stable: alerts and dashboards match on them.
 */
export const Reason = {
  InvalidSpec: 'InvalidSpec',
  Synced: 'Synced',
  RolloutStarted: 'RolloutStarted',
  RolloutSucceeded: 'RolloutSucceeded',
  RolloutFailed: 'RolloutFailed',
  ProgressDeadlineExceeded: 'ProgressDeadlineExceeded',
  RolledBack: 'RolledBack',
  RollingBack: 'RollingBack',
  RolloutSuperseded: 'RolloutSuperseded',
  Verifying: 'Verifying',
  WaitingForRollout: 'WaitingForRollout',
  StepFailed: 'StepFailed',
  RollbackFailed: 'RollbackFailed',
  ValidationFailed: 'ValidationFailed',
  DigestNotFound: 'DigestNotFound',
  RegistryUnavailable: 'RegistryUnavailable',
  KnownBadDigest: 'KnownBadDigest',
  Regression: 'Regression',
  ImageTooNew: 'ImageTooNew',
  VulnerabilitiesFound: 'VulnerabilitiesFound',
  SignatureInvalid: 'SignatureInvalid',
  VerifyFailed: 'VerifyFailed',
  PlatformMissing: 'PlatformMissing',
  NoMatchingWorkloads: 'NoMatchingWorkloads',
  ContainerNotFound: 'ContainerNotFound',
  DriftCorrected: 'DriftCorrected',
  Suspended: 'Suspended',
  NotSuspended: 'NotSuspended',
  /** BlueGreen and Canary (Events and rollout reasons). */
  TrafficSwitched: 'TrafficSwitched',
  TrafficSwitchedBack: 'TrafficSwitchedBack',
  PreviewSwitched: 'PreviewSwitched',
  ScalingDown: 'ScalingDown',
  ScaledDown: 'ScaledDown',
  CanaryWeightSet: 'CanaryWeightSet',
  Analyzing: 'Analyzing',
  AnalysisPassed: 'AnalysisPassed',
  AnalysisFailed: 'AnalysisFailed',
  RolloutPaused: 'RolloutPaused',
  RolloutPromoted: 'RolloutPromoted',
  RolloutAborted: 'RolloutAborted',
  RolloutRetried: 'RolloutRetried',
  SyncRequested: 'SyncRequested',
  RequestRefused: 'RequestRefused',
} as const;
export type Reason = (typeof Reason)[keyof typeof Reason];

export interface ConditionUpdate {
  type: ConditionType;
  status: Condition['status'];
  reason: Reason;
  message?: string;
  observedGeneration?: number;
}

/**
 * Returns the conditions with `update` applied, as Kubernetes' `meta.SetStatusCondition` does:
 * `lastTransitionTime` moves only when the status changes; reason, message and generation are
 * always taken. The input is not modified; the order of existing conditions is kept.
 */
export function setCondition(
  conditions: readonly Condition[] | undefined,
  update: ConditionUpdate,
  now: Date,
): Condition[] {
  const list = [...(conditions ?? [])];
  const index = list.findIndex((c) => c.type === update.type);
  const existing = index >= 0 ? list[index] : undefined;
  const next: Condition = {
    type: update.type,
    status: update.status,
    reason: update.reason,
    message: update.message ?? '',
    lastTransitionTime:
      existing && existing.status === update.status
        ? existing.lastTransitionTime
        : now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    ...(update.observedGeneration !== undefined
      ? { observedGeneration: update.observedGeneration }
      : {}),
  };
  if (index >= 0) list[index] = next;
  else list.push(next);
  return list;
}

/** The condition of that type, if present. */
export function findCondition(
  conditions: readonly Condition[] | undefined,
  type: ConditionType,
): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

/**
 * True when applying `update` would change anything people can see (status, reason or message):
 * the rule for emitting an Event only when a condition changes.
 */
export function conditionChanged(
  conditions: readonly Condition[] | undefined,
  update: ConditionUpdate,
): boolean {
  const c = findCondition(conditions, update.type);
  return (
    !c ||
    c.status !== update.status ||
    c.reason !== update.reason ||
    c.message !== (update.message ?? '')
  );
}
