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

/** The merge patch of the status that {@link writeStatus} sends; pure. */
export function statusPatch(
  cv: StoredContainerVersion,
  fields: Partial<ContainerVersionStatus>,
  conditions: readonly ConditionUpdate[],
  now: Date,
): Partial<ContainerVersionStatus> {
  return {
    ...fields,
    observedGeneration: cv.metadata.generation,
    ...(conditions.length > 0
      ? { conditions: applyConditions(cv.status?.conditions, conditions, now) }
      : {}),
  };
}

/**
 * The CV as the API server stores it after this status patch (RFC 7386: objects merge, `null`
 * removes, arrays and other values replace; `undefined` is not sent); pure.
 */
export function patchedLocally(
  cv: StoredContainerVersion,
  patch: Partial<ContainerVersionStatus>,
): StoredContainerVersion {
  return { ...cv, status: mergePatch(cv.status ?? {}, patch) as ContainerVersionStatus };
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const result: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
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
  const status = statusPatch(cv, fields, conditions, deps.now());
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
