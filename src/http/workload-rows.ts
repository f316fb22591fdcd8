import { ContainerVersionSpecSchema, type ContainerVersionSpec } from '../api/container-version.js';
import { cvState } from '../api/cv-state.js';
import { digestOfImage, versionOfImage } from '../workers/plan-container-patch.js';
import type { StoredContainerVersion, Workload } from '../workers/ports.js';
import { containerOf } from '../workers/rollout-facts.js';
import type { WorkloadRow } from './api-schemas.js';

/** The workloads of a namespace as a cache holds them (the workload watcher). */
export interface WorkloadCacheView {
  workloads(namespace: string): readonly Workload[];
}

/**
 * Every workload a CV manages, one row each, sorted by namespace, kind and name: the workloads
 * in the CV's namespace (and a BlueGreen CV's colour namespaces) whose labels match its selector
 * and that have its container. Pure: reads only the given CVs and the cache. A CV whose spec is
 * invalid manages nothing (its Ready condition says why).
 */
export function workloadRows(
  cvs: readonly StoredContainerVersion[],
  cache: WorkloadCacheView,
  specOf: SpecOf = parseSpec,
): WorkloadRow[] {
  const rows: WorkloadRow[] = [];
  // Per namespace, the workloads by `label=value`, built once per call: a CV looks only at those
  // with its selector's rarest pair, not at every workload of its namespace.
  const indexes = new Map<string, Map<string, Workload[]>>();
  const candidates = (namespace: string, selector: Record<string, string>) => {
    let index = indexes.get(namespace);
    if (!index) indexes.set(namespace, (index = labelIndex(cache.workloads(namespace))));
    let best: Workload[] | undefined;
    for (const [k, v] of Object.entries(selector)) {
      const list = index.get(`${k}=${v}`) ?? [];
      if (!best || list.length < best.length) best = list;
    }
    return best ?? [];
  };
  for (const cv of cvs) {
    const spec = specOf(cv);
    if (!spec) continue;
    const namespaces = new Set([
      cv.metadata.namespace,
      ...(spec.strategy.blueGreen?.namespaces ?? []),
    ]);
    const state = cvState(cv);
    const status = cv.status ?? {};
    const { rollout, lastRollout } = status;
    for (const namespace of namespaces)
      for (const w of candidates(namespace, spec.selector)) {
        if (!matches(spec.selector, labelsOf(w))) continue;
        const container = containerOf(w, spec.container);
        if (!container) continue;
        const replicas = replicasOf(w);
        const image = container.image ?? '';
        const digest = digestOfImage(image);
        const version = versionOfImage(image);
        const unready = replicas.desired !== null && (replicas.ready ?? 0) < replicas.desired;
        rows.push({
          namespace: w.namespace,
          kind: w.kind,
          name: w.name,
          container: spec.container,
          containerVersion: { namespace: cv.metadata.namespace, name: cv.metadata.name },
          ...(version ? { version } : {}),
          ...(digest ? { digest } : {}),
          ...(image ? { image } : {}),
          replicas,
          state: state === 'Ready' && unready ? 'Degraded' : state,
          ...(rollout
            ? {
                rollout: {
                  strategy: rollout.strategy,
                  phase: rollout.phase,
                  step: rollout.step,
                  steps: rollout.steps,
                  version: rollout.version,
                  digest: rollout.digest,
                  message: rollout.message,
                },
              }
            : {}),
          ...(lastRollout
            ? {
                lastRollout: {
                  result: lastRollout.result,
                  version: lastRollout.version,
                  digest: lastRollout.digest,
                  startedAt: lastRollout.startedAt,
                  ...(lastRollout.finishedAt ? { finishedAt: lastRollout.finishedAt } : {}),
                  message: lastRollout.message,
                },
              }
            : {}),
        });
      }
  }
  return rows.sort(
    (a, b) =>
      a.namespace.localeCompare(b.namespace) ||
      a.kind.localeCompare(b.kind) ||
      a.name.localeCompare(b.name),
  );
}

/** The validated spec of a stored CV, or null when it is invalid. */
export type SpecOf = (cv: StoredContainerVersion) => ContainerVersionSpec | null;

const parseSpec: SpecOf = (cv) => {
  const parsed = ContainerVersionSpecSchema.safeParse(cv.spec);
  return parsed.success ? parsed.data : null;
};

/**
 * A {@link SpecOf} that parses each stored object once: an informer replaces the object on every
 * change, so a WeakMap keyed by it is never stale and lets go of what the cache dropped.
 */
export function memoizedSpecs(): SpecOf {
  const specs = new WeakMap<StoredContainerVersion, ContainerVersionSpec | null>();
  return (cv) => {
    let spec = specs.get(cv);
    if (spec === undefined) specs.set(cv, (spec = parseSpec(cv)));
    return spec;
  };
}

function labelIndex(workloads: readonly Workload[]): Map<string, Workload[]> {
  const index = new Map<string, Workload[]>();
  for (const w of workloads)
    for (const [k, v] of Object.entries(labelsOf(w))) {
      const key = `${k}=${v}`;
      const list = index.get(key);
      if (list) list.push(w);
      else index.set(key, [w]);
    }
  return index;
}

const labelsOf = (w: Workload): Record<string, string> =>
  (w.object as { metadata?: { labels?: Record<string, string> } }).metadata?.labels ?? {};

const matches = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

interface Replicated {
  spec?: { replicas?: number };
  status?: {
    readyReplicas?: number;
    updatedReplicas?: number;
    desiredNumberScheduled?: number;
    numberReady?: number;
    updatedNumberScheduled?: number;
  };
}

/** Desired, ready and updated replicas as `kubectl get` shows them; null for a CronJob. */
export function replicasOf(w: Workload): WorkloadRow['replicas'] {
  const o = w.object as Replicated;
  switch (w.kind) {
    case 'Deployment':
    case 'StatefulSet':
      return {
        desired: o.spec?.replicas ?? 1,
        ready: o.status?.readyReplicas ?? 0,
        updated: o.status?.updatedReplicas ?? 0,
      };
    case 'DaemonSet':
      return {
        desired: o.status?.desiredNumberScheduled ?? 0,
        ready: o.status?.numberReady ?? 0,
        updated: o.status?.updatedNumberScheduled ?? 0,
      };
    default:
      return { desired: null, ready: null, updated: null };
  }
}
