import type { ContainerVersionStatus } from './container-version.js';
import { ConditionType, findCondition } from './conditions.js';

/** How a CV stands, in one word, for tables (the REST API, the dashboard, `cvm status`). */
export const CV_STATES = ['Ready', 'Progressing', 'Degraded', 'Suspended'] as const;
export type CvState = (typeof CV_STATES)[number];

/**
 * One word for a CV from its spec and status (the conditions stay the detail): `Suspended` when
 * `spec.suspend` is true; `Progressing` while a rollout is in flight or before cvm has looked at
 * it (no Ready condition yet); `Degraded` when Degraded is True or Ready is False (the last
 * rollout failed, or cvm cannot act: invalid spec, known-bad digest, no workloads); else `Ready`.
 */
export function cvState(cv: { spec?: unknown; status?: ContainerVersionStatus }): CvState {
  const conditions = cv.status?.conditions;
  const suspended =
    (cv.spec as { suspend?: unknown } | undefined)?.suspend === true ||
    findCondition(conditions, ConditionType.Suspended)?.status === 'True';
  if (suspended) return 'Suspended';
  if (cv.status?.rollout) return 'Progressing';
  if (findCondition(conditions, ConditionType.Degraded)?.status === 'True') return 'Degraded';
  const ready = findCondition(conditions, ConditionType.Ready)?.status;
  if (ready === 'False') return 'Degraded';
  return ready === 'True' ? 'Ready' : 'Progressing';
}
