import type {
  ContainerVersionSpec,
  ContainerVersionStatus,
  RolloutState,
} from '../api/container-version.js';
import { ConditionType, Reason, type ConditionUpdate } from '../api/conditions.js';
import type { HistoryEntry, StoredContainerVersion } from './ports.js';
import { workloadKey } from './rollout-facts.js';

export const iso = (date: Date): string => date.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** `status.lastRequest`: the `cvm.dev/request` value handled at `now`, and what came of it. */
export const handledRequest = (
  request: { value: string; action: string },
  result: 'Applied' | 'Refused',
  message: string,
  now: Date,
) => ({ value: request.value, action: request.action, at: iso(now), result, message });

/** Milliseconds of an RFC 3339 time; never (+∞) when there is none. */
export const timeOf = (at: string | undefined): number =>
  at ? Date.parse(at) : Number.POSITIVE_INFINITY;

export interface RolloutRecord {
  /** Status fields: `rollout` is removed (null in the merge patch). */
  fields: Partial<ContainerVersionStatus>;
  conditions: ConditionUpdate[];
  /** The history entry, when the rollout touched any workload (and history is enabled). */
  history?: HistoryEntry;
}

/**
 * What a finished rollout leaves behind (DESIGN §4 step 7), from its persisted state alone, so
 * recording again after a crash writes the same: `lastRollout`; on success the current
 * version, digest and image; on failure the digest in `failedDigests` (never for a revert of
 * drift, whose image had passed before); conditions; a history entry with the rollout's id. Pure.
 */
export function rolloutRecord(
  cv: StoredContainerVersion,
  spec: ContainerVersionSpec,
  rollout: RolloutState,
  now: Date,
): RolloutRecord {
  const result = rollout.result ?? 'Failed';
  const reason = (rollout.reason ?? Reason.RolloutFailed) as Reason;
  const message = rollout.message;
  const generation = cv.metadata.generation;
  const finishedAt = iso(now);
  const condition = (type: ConditionType, status: 'True' | 'False', why = reason, text = message) =>
    ({
      type,
      status,
      reason: why,
      message: text,
      observedGeneration: generation,
    }) satisfies ConditionUpdate;
  const failedDigests =
    (result === 'Failed' || result === 'RolledBack') && !rollout.heal
      ? { failedDigests: [...new Set([...(cv.status?.failedDigests ?? []), rollout.digest])] }
      : {};
  const fields: Partial<ContainerVersionStatus> = {
    ...failedDigests,
    ...(result === 'Succeeded'
      ? {
          currentVersion: rollout.version,
          currentDigest: rollout.digest,
          currentImage: rollout.image,
        }
      : {}),
    lastRollout: {
      version: rollout.version,
      digest: rollout.digest,
      startedAt: rollout.startedAt,
      finishedAt,
      result,
      message,
    },
    // null removes the rollout: the status is merge-patched.
    rollout: null as unknown as undefined,
  };
  const conditions: ConditionUpdate[] =
    result === 'Succeeded'
      ? [
          condition(ConditionType.Ready, 'True'),
          condition(ConditionType.Progressing, 'False'),
          ...(rollout.heal ? [] : [condition(ConditionType.Degraded, 'False', reason, '')]),
        ]
      : result === 'RolledBack'
        ? [
            condition(ConditionType.Ready, 'True'),
            condition(ConditionType.Progressing, 'False'),
            condition(ConditionType.Degraded, 'True'),
          ]
        : result === 'Superseded'
          ? [condition(ConditionType.Progressing, 'False')]
          : [
              ...(reason === Reason.RollbackFailed
                ? [condition(ConditionType.Ready, 'False')]
                : []),
              condition(ConditionType.Progressing, 'False'),
              condition(
                ConditionType.Degraded,
                'True',
                reason === Reason.ProgressDeadlineExceeded ? Reason.RolloutFailed : reason,
              ),
            ];
  const workloads = rollout.workloads ?? [];
  // What ran before: the live colour's (BlueGreen) or the stable workload's (Canary) image.
  const previousImage = (
    workloads.find((w) => (w.role === 'live' || w.role === 'stable') && w.previousImage) ??
    workloads.find((w) => w.previousImage)
  )?.previousImage;
  return {
    fields,
    conditions,
    ...(spec.history.enabled && workloads.length > 0
      ? {
          history: {
            id: rollout.id,
            version: rollout.version,
            digest: rollout.digest,
            image: rollout.image,
            ...(previousImage ? { previousImage } : {}),
            startedAt: rollout.startedAt,
            finishedAt,
            result,
            message,
            trigger: rollout.trigger,
            workloads: workloads.map((w) => workloadKey(w)),
          },
        }
      : {}),
  };
}
