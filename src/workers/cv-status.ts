import type { Condition, ContainerVersionStatus } from '../api/container-version.js';
import type { Reason } from '../api/conditions.js';
import {
  ConditionType,
  conditionChanged,
  setCondition,
  type ConditionUpdate,
} from '../api/conditions.js';
import type {
  ContainerVersionStore,
  EventRecorder,
  ObjectReference,
  StoredContainerVersion,
} from './ports.js';

/** The ObjectReference of a CV, for Events. */
export function cvReference(cv: StoredContainerVersion): ObjectReference {
  return {
    apiVersion: cv.apiVersion,
    kind: cv.kind,
    namespace: cv.metadata.namespace,
    name: cv.metadata.name,
    uid: cv.metadata.uid,
  };
}

/** Conditions after applying `updates` in order; pure. */
export function applyConditions(
  conditions: readonly Condition[] | undefined,
  updates: readonly ConditionUpdate[],
  now: Date,
): Condition[] {
  return updates.reduce<Condition[]>(
    (list, update) => setCondition(list, update, now),
    [...(conditions ?? [])],
  );
}

/** Ready=False, Degraded=True with one reason: how a CV that cannot act says why. */
export function blockedConditions(
  reason: Reason,
  message: string,
  generation: number,
): ConditionUpdate[] {
  return [
    { type: ConditionType.Ready, status: 'False', reason, message, observedGeneration: generation },
    {
      type: ConditionType.Progressing,
      status: 'False',
      reason,
      message,
      observedGeneration: generation,
    },
    {
      type: ConditionType.Degraded,
      status: 'True',
      reason,
      message,
      observedGeneration: generation,
    },
  ];
}

export interface StatusDeps {
  store: ContainerVersionStore;
  events: EventRecorder;
  now: () => Date;
}

/**
 * Writes a status change of a CV and, when the Ready or Degraded condition changed, one Event
 * with the reason (STYLE.md: Events only when a condition changes). Returns the stored CV.
 */
export async function writeStatus(
  deps: StatusDeps,
  cv: StoredContainerVersion,
  fields: Partial<ContainerVersionStatus>,
  conditions: readonly ConditionUpdate[] = [],
): Promise<StoredContainerVersion> {
  const before = cv.status?.conditions;
  const changed = conditions.filter((c) => conditionChanged(before, c));
  const status: Partial<ContainerVersionStatus> = {
    ...fields,
    observedGeneration: cv.metadata.generation,
    ...(conditions.length > 0
      ? { conditions: applyConditions(before, conditions, deps.now()) }
      : {}),
  };
  const stored = await deps.store.patchStatus(
    { namespace: cv.metadata.namespace, name: cv.metadata.name },
    status,
  );
  const headline =
    changed.find((c) => c.type === ConditionType.Degraded && c.status === 'True') ??
    changed.find((c) => c.type === ConditionType.Ready);
  if (headline) {
    const warning = headline.type === ConditionType.Degraded || headline.status === 'False';
    await deps.events.record(
      cvReference(cv),
      warning ? 'Warning' : 'Normal',
      headline.reason,
      headline.message ?? '',
    );
  }
  return stored;
}
