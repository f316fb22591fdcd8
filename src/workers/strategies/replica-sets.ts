import type { RolloutState, RolloutWorkload } from '../../api/container-version.js';
import { Reason } from '../../api/conditions.js';
import type { RolloutAction } from '../rollout-facts.js';
import type { Workload } from '../ports.js';
import { workloadKey, type RolloutFacts, type WorkloadChange } from '../rollout-facts.js';

/**
 * Before traffic is committed to it (a canary before promotion, BlueGreen before the switch), a
 * rollout gives way to a newer digest of the tag: it is rolled back as Superseded (not a failure)
 * and the next rollout takes the new digest. Resolves the tag only when the run was brought by
 * a push, poll or sync (`news`). Undefined: go on.
 */
export function supersede(facts: RolloutFacts, rollout: RolloutState): RolloutAction | undefined {
  if (rollout.heal) return undefined;
  if (facts.resolved === undefined) return facts.news ? { type: 'resolve' } : undefined;
  if (!facts.resolved || facts.resolved.digest === rollout.digest) return undefined;
  const failure = `the tag moved on to ${facts.resolved.digest} before ${rollout.version} was promoted`;
  return {
    type: 'promote',
    to: {
      phase: 'RollingBack',
      reason: Reason.RolloutSuperseded,
      failure,
      message: `${failure}; rolling back`,
    },
  };
}

/** The parts of a Deployment or StatefulSet that BlueGreen and Canary read. */
interface ScalableObject {
  metadata?: { labels?: Record<string, string> };
  spec?: { replicas?: number; selector?: { matchLabels?: Record<string, string> } };
  status?: { readyReplicas?: number; replicas?: number };
}

const view = (w: Workload) => (w.object ?? {}) as ScalableObject;

/** Kinds BlueGreen and Canary run: the ones with `spec.replicas`. */
export const SCALABLE_KINDS: readonly string[] = ['Deployment', 'StatefulSet'];

export const labelsOf = (w: Workload): Record<string, string> => view(w).metadata?.labels ?? {};
/** `spec.replicas`, 1 when unset (the API server's default). */
export const replicasOf = (w: Workload): number => view(w).spec?.replicas ?? 1;
export const readyReplicasOf = (w: Workload | null | undefined): number =>
  (w ? view(w).status?.readyReplicas : undefined) ?? 0;
export const podSelectorOf = (w: Workload): Record<string, string> =>
  view(w).spec?.selector?.matchLabels ?? {};

/** `deployment/api`, as kubectl names objects. */
export const nameOf = (w: { kind: string; name: string }) => `${w.kind.toLowerCase()}/${w.name}`;

/** The first selected workload whose kind has no replicas, as an InvalidSpec message. */
export function unscalable(selected: readonly Workload[], strategy: string): string | undefined {
  const other = selected.find((w) => !SCALABLE_KINDS.includes(w.kind));
  return other
    ? `spec.selector: ${strategy} runs Deployments and StatefulSets; it also selects ${nameOf(other)}`
    : undefined;
}

/** The rollout's workloads of one role. */
export const withRole = (
  entries: readonly RolloutWorkload[] | undefined,
  role: RolloutWorkload['role'],
): RolloutWorkload[] => (entries ?? []).filter((e) => e.role === role);

/** The observed workload of an entry (`undefined`: not read yet, `null`: deleted). */
export const observedOf = (facts: RolloutFacts, entry: RolloutWorkload) =>
  facts.observed?.get(workloadKey(entry));

/** A change that only makes the rollout remember a workload (and watch it). */
export const remember = (w: Workload, role: RolloutWorkload['role'], namespace?: string) =>
  ({
    kind: w.kind,
    name: w.name,
    role,
    ...(namespace ? { namespace } : {}),
  }) satisfies WorkloadChange;

/**
 * Whether an observed workload has the replicas (and, when given, the container image) a change
 * asks for: the level a step checks before it applies the change again.
 */
export function reached(
  w: Workload | null | undefined,
  container: string,
  change: { replicas?: number; image?: string },
): boolean {
  if (!w) return true;
  if (change.replicas !== undefined && replicasOf(w) !== change.replicas) return false;
  if (change.image !== undefined) {
    const c =
      w.containers.find((x) => x.name === container) ??
      w.initContainers.find((x) => x.name === container);
    if (c && c.image !== change.image) return false;
  }
  return true;
}
