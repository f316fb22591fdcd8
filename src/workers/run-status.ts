import type { ContainerVersionStatus, RolloutState } from '../api/container-version.js';
import { ConditionType, Reason, type ConditionUpdate } from '../api/conditions.js';
import type { RolloutJobData } from '../queue/rollout-queue.js';
import {
  cvReference,
  patchedLocally,
  statusPatch,
  writeStatus,
  type StatusDeps,
} from './cv-status.js';
import { RegistryError } from '../registry/registry-client.js';
import type { StoredContainerVersion } from './ports.js';

/**
 * The status writes of one job run: every write observes the CV's generation, and the first one
 * also carries the run's `lastEvent` (the push that started it), so a push costs no write of its own.
 */
export class RunStatus {
  #pending: Partial<ContainerVersionStatus>;
  /** A write kept for the next one ({@link RunStatus.stage}): the CV as stored, and what to write. */
  #staged:
    | {
        base: StoredContainerVersion;
        fields: Partial<ContainerVersionStatus>;
        conditions: ConditionUpdate[];
      }
    | undefined;

  constructor(
    private readonly deps: StatusDeps,
    /** The CV's metadata.generation: what the conditions this run writes observed. */
    private readonly generation: number,
    data: RolloutJobData,
  ) {
    const { trigger } = data;
    this.#pending = trigger.source
      ? {
          lastEvent: {
            source: trigger.source,
            receivedAt: trigger.receivedAt,
            ...(trigger.digest ? { digest: trigger.digest } : {}),
          },
        }
      : {};
  }

  /** The run still has something to write: its lastEvent, or a staged write. */
  get pending(): boolean {
    return Object.keys(this.#pending).length > 0 || this.#staged !== undefined;
  }

  /** Writes `fields` and `conditions` (Events when Ready or Degraded change); resolves to the stored CV. */
  async write(
    cv: StoredContainerVersion,
    fields: Partial<ContainerVersionStatus>,
    conditions: readonly ConditionUpdate[] = [],
  ): Promise<StoredContainerVersion> {
    const staged = this.#staged;
    // A staged write goes with this one: against the CV as stored, so its condition changes
    // still make their Event.
    const stored = await writeStatus(
      this.deps,
      staged?.base ?? cv,
      { ...this.#pending, ...staged?.fields, ...fields },
      [...(staged?.conditions ?? []), ...conditions],
    );
    this.#pending = {};
    this.#staged = undefined;
    return stored;
  }

  /**
   * Keeps this write for the run's next one, and returns the CV as it will be stored: for a step
   * whose effect is safe to repeat (every rollout effect is), when what comes next only reads or
   * writes the status (the wait, the record). Losing it in a crash is a crash just before it was
   * written, which the run that takes over repeats. The run writes it before any other effect
   * ({@link RunStatus.flush}).
   */
  stage(
    cv: StoredContainerVersion,
    fields: Partial<ContainerVersionStatus>,
    conditions: readonly ConditionUpdate[] = [],
  ): StoredContainerVersion {
    const base = this.#staged?.base ?? cv;
    const staged = {
      base,
      fields: { ...this.#staged?.fields, ...fields },
      conditions: [...(this.#staged?.conditions ?? []), ...conditions],
    };
    this.#staged = staged;
    return patchedLocally(
      base,
      statusPatch(base, { ...this.#pending, ...staged.fields }, staged.conditions, this.deps.now()),
    );
  }

  /** Writes a staged write now (nothing when none); resolves to the stored CV, or undefined. */
  async flush(): Promise<StoredContainerVersion | undefined> {
    const staged = this.#staged;
    return staged ? this.write(staged.base, {}) : undefined;
  }

  condition(
    type: ConditionType,
    status: 'True' | 'False',
    reason: Reason,
    message: string,
  ): ConditionUpdate {
    return { type, status, reason, message, observedGeneration: this.generation };
  }

  progressing(reason: Reason, message: string): ConditionUpdate {
    return this.condition(ConditionType.Progressing, 'True', reason, message);
  }
}

/** The CV still says a step failed: the next write that succeeds says what happens now. */
export const afterStepFailed = (cv: StoredContainerVersion): boolean =>
  cv.status?.conditions?.some(
    (c) =>
      c.type === ConditionType.Progressing &&
      (c.reason === Reason.StepFailed || c.reason === Reason.RegistryUnavailable),
  ) ?? false;

/**
 * Why a step failed, as the CV says it: `RegistryUnavailable` when the registry could not be
 * reached or answered 5xx (the rollout waits for it, retried with backoff), `StepFailed` otherwise.
 */
export function stepFailure(error: unknown): { reason: Reason; message: string } {
  const detail = error instanceof Error ? error.message : String(error);
  if (error instanceof RegistryError && error.transient)
    return {
      reason: Reason.RegistryUnavailable,
      message: `the registry is unavailable; the rollout waits for it and is retried: ${detail}`,
    };
  return { reason: Reason.StepFailed, message: `a step failed and is retried: ${detail}` };
}

/**
 * Says on the CV that a step failed and is retried (Progressing=Unknown with the reason of
 * {@link stepFailure}, and a Warning Event), best effort: the API server may be what failed. A CV
 * read without status (or not read at all) gets the Event only, since its conditions cannot be
 * merged.
 */
export async function reportStepFailed(
  deps: StatusDeps,
  cv: StoredContainerVersion,
  failure: { reason: Reason; message: string },
): Promise<void> {
  try {
    if (cv.status)
      await writeStatus(deps, cv, {}, [
        {
          type: ConditionType.Progressing,
          status: 'Unknown',
          reason: failure.reason,
          message: failure.message,
          observedGeneration: cv.metadata.generation,
        },
      ]);
    await deps.events.record(cvReference(cv), 'Warning', failure.reason, failure.message);
  } catch {
    // The API server is what failed; the job's retry is the record that matters.
  }
}

/** The conditions a transition of a rollout changes: it starts patching, rolls back, is superseded, or enters a phase. */
export function transitionConditions(
  status: RunStatus,
  rollout: RolloutState,
  to: Partial<RolloutState>,
): ConditionUpdate[] {
  if (to.phase === 'Patching' && rollout.phase === 'Verifying' && rollout.strategy === 'Rolling')
    return [status.progressing(Reason.RolloutStarted, to.message ?? '')];
  if (
    to.phase === 'RollingBack' &&
    rollout.phase !== 'RollingBack' &&
    to.reason === Reason.RolloutSuperseded
  )
    return [status.progressing(Reason.RolloutSuperseded, to.message ?? '')];
  if (to.phase === 'RollingBack' && rollout.phase !== 'RollingBack')
    return [
      status.progressing(Reason.RollingBack, to.message ?? ''),
      status.condition(
        ConditionType.Degraded,
        'True',
        (to.reason as Reason | undefined) ?? Reason.RolloutFailed,
        to.failure ?? to.message ?? '',
      ),
    ];
  if (to.phase && to.phase !== rollout.phase && to.phase !== 'Recording' && to.message)
    return [status.progressing(progressReason(to.phase), to.message)];
  return [];
}

/** The Progressing reason of a rollout that enters `phase`. */
function progressReason(phase: RolloutState['phase']): Reason {
  switch (phase) {
    case 'Verifying':
      return Reason.Verifying;
    case 'Switching':
      return Reason.TrafficSwitched;
    case 'Paused':
      return Reason.RolloutPaused;
    case 'Analyzing':
      return Reason.Analyzing;
    case 'ScalingDown':
      return Reason.ScalingDown;
    case 'RollingBack':
      return Reason.RollingBack;
    default:
      return Reason.WaitingForRollout;
  }
}
