import { controllerRef } from './owner-refs.js';
import { computeHash, stableStringify } from './template-hash.js';
import type { Deployment, PodTemplate, ReplicaSet } from './deployment-types.js';
import {
  desiredReplicasAnnotation,
  maxReplicasAnnotation,
  podTemplateHashLabel,
  revisionAnnotation,
} from './deployment-types.js';
import { desiredReplicas, maxSurge, revisionOf, specReplicas } from './deployment-util.js';

/** Deployment annotations never copied to its ReplicaSets (`skipCopyAnnotation`). */
const notCopied = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  revisionAnnotation,
  'deployment.kubernetes.io/revision-history',
  desiredReplicasAnnotation,
  maxReplicasAnnotation,
  'deprecated.deployment.rollback.to',
]);

function withoutHash(template: PodTemplate | undefined): unknown {
  const copy = structuredClone(template ?? {});
  if (copy.metadata?.labels) {
    const labels = { ...copy.metadata.labels };
    delete labels[podTemplateHashLabel];
    copy.metadata.labels = labels;
  }
  return copy;
}

/** `ReplicaSetsByCreationTimestamp`: oldest first, then by name. */
export function byCreation(a: ReplicaSet, b: ReplicaSet): number {
  const ta = a.metadata.creationTimestamp ?? '';
  const tb = b.metadata.creationTimestamp ?? '';
  if (ta !== tb) return ta < tb ? -1 : 1;
  const na = a.metadata.name ?? '';
  const nb = b.metadata.name ?? '';
  return na < nb ? -1 : na > nb ? 1 : 0;
}

/** `FindNewReplicaSet`: the oldest ReplicaSet whose template equals the Deployment's, hash aside. */
export function findNewReplicaSet(d: Deployment, rsList: ReplicaSet[]): ReplicaSet | undefined {
  const wanted = stableStringify(withoutHash(d.spec.template));
  return [...rsList]
    .sort(byCreation)
    .find((rs) => stableStringify(withoutHash(rs.spec.template)) === wanted);
}

export function maxRevision(rsList: ReplicaSet[]): number {
  return rsList.reduce((max, rs) => Math.max(max, revisionOf(rs)), 0);
}

/** `SetReplicasAnnotations`; true when something changed. */
export function setReplicasAnnotations(rs: ReplicaSet, d: Deployment): boolean {
  const desired = String(desiredReplicas(d));
  const max = String(desiredReplicas(d) + maxSurge(d));
  const annotations = rs.metadata.annotations ?? {};
  if (
    annotations[desiredReplicasAnnotation] === desired &&
    annotations[maxReplicasAnnotation] === max
  ) {
    return false;
  }
  rs.metadata.annotations = {
    ...annotations,
    [desiredReplicasAnnotation]: desired,
    [maxReplicasAnnotation]: max,
  };
  return true;
}

/** `SetNewReplicaSetAnnotations`: copies the Deployment's annotations, raises the revision. */
export function setNewReplicaSetAnnotations(
  d: Deployment,
  rs: ReplicaSet,
  newRevision: number,
  exists: boolean,
): boolean {
  const annotations = { ...(rs.metadata.annotations ?? {}) };
  let changed = false;
  for (const [key, value] of Object.entries(d.metadata.annotations ?? {})) {
    if (notCopied.has(key) || annotations[key] === value) continue;
    annotations[key] = value;
    changed = true;
  }
  if (revisionOf(rs) < newRevision) {
    annotations[revisionAnnotation] = String(newRevision);
    changed = true;
  }
  rs.metadata.annotations = annotations;
  if (!exists && setReplicasAnnotations(rs, d)) changed = true;
  return changed;
}

/** `NewRSNewReplicas`: how far the new ReplicaSet may grow now (maxSurge bound when rolling). */
export function newReplicaSetReplicas(
  d: Deployment,
  allRSs: ReplicaSet[],
  newRS: ReplicaSet,
): number {
  const desired = desiredReplicas(d);
  if ((d.spec.strategy?.type ?? 'RollingUpdate') !== 'RollingUpdate') return desired;
  const current = allRSs.reduce((n, rs) => n + specReplicas(rs), 0);
  const maxTotal = desired + maxSurge(d);
  if (current >= maxTotal) return specReplicas(newRS);
  const scaleUp = Math.min(maxTotal - current, desired - specReplicas(newRS));
  return specReplicas(newRS) + scaleUp;
}

/** The ReplicaSet the Deployment's template asks for, with 0 replicas and no annotations yet. */
export function replicaSetFor(d: Deployment): ReplicaSet {
  const template = structuredClone(d.spec.template ?? {});
  const hash = computeHash(template, d.status?.collisionCount);
  const labels = { ...(template.metadata?.labels ?? {}), [podTemplateHashLabel]: hash };
  const selector = structuredClone(d.spec.selector ?? {});
  selector.matchLabels = { ...(selector.matchLabels ?? {}), [podTemplateHashLabel]: hash };
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name: `${d.metadata.name ?? ''}-${hash}`,
      namespace: d.metadata.namespace,
      labels,
      ownerReferences: [controllerRef(d)],
    },
    spec: {
      replicas: 0,
      ...(d.spec.minReadySeconds ? { minReadySeconds: d.spec.minReadySeconds } : {}),
      selector,
      template: { ...template, metadata: { ...(template.metadata ?? {}), labels } },
    },
  };
}
