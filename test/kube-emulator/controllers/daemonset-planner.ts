import type { KubeObject } from '../contract.js';
import type { PodTemplate } from './deployment-types.js';
import { scaledValue } from './int-or-percent.js';
import { controllerRef } from './owner-refs.js';
import { podFromTemplate } from './pod-template.js';
import { isPodActive, isPodAvailable, isPodReady } from './pod-status.js';
import { computeHash, stableStringify } from './template-hash.js';

export interface DaemonSet extends KubeObject {
  spec: {
    selector?: { matchLabels?: Record<string, string> };
    template?: PodTemplate;
    minReadySeconds?: number;
    updateStrategy?: { type?: string; rollingUpdate?: { maxUnavailable?: number | string } };
  };
  status?: Record<string, unknown>;
}

export interface DaemonSetPlan {
  createPods: KubeObject[];
  deletePods: string[];
  /** The status to store, or undefined when unchanged. */
  status: Record<string, unknown> | undefined;
}

const nodeOf = (pod: KubeObject): string | undefined =>
  (pod.spec as { nodeName?: string } | undefined)?.nodeName;

/** The hash labelling the DaemonSet's current Pods (`controller-revision-hash`). */
export function daemonSetHash(ds: DaemonSet): string {
  return computeHash(ds.spec.template ?? {});
}

/**
 * One pass of the DaemonSet controller over `nodes`: a Pod on every node that has none, extra
 * Pods on a node removed, and with RollingUpdate (maxSurge 0) old Pods deleted while at most
 * `maxUnavailable` nodes lack an available Pod; OnDelete leaves old Pods alone. The status counts
 * the Pods seen before this pass's changes, as the captured sequence shows. Pure.
 */
export function planDaemonSetSync(
  ds: DaemonSet,
  nodes: string[],
  ownedPods: KubeObject[],
  nowMs: number,
): DaemonSetPlan {
  const hash = daemonSetHash(ds);
  const minReady = ds.spec.minReadySeconds ?? 0;
  const pods = ownedPods.filter(isPodActive);
  const onNode = (node: string) => pods.filter((p) => nodeOf(p) === node);
  const isNew = (p: KubeObject) => p.metadata.labels?.['controller-revision-hash'] === hash;
  const available = (p: KubeObject) => isPodAvailable(p, minReady, nowMs);
  const plan: DaemonSetPlan = { createPods: [], deletePods: [], status: undefined };

  for (const node of nodes) {
    const here = onNode(node);
    if (here.length === 0) plan.createPods.push(newPod(ds, node, hash));
    // Keep the best Pod of a node (new, then available); any other is extra.
    const ranked = [...here].sort(
      (a, b) => Number(isNew(b)) - Number(isNew(a)) || Number(available(b)) - Number(available(a)),
    );
    for (const extra of ranked.slice(1)) plan.deletePods.push(extra.metadata.name ?? '');
  }
  const misplaced = pods.filter((p) => !nodes.includes(nodeOf(p) ?? ''));
  for (const pod of misplaced) plan.deletePods.push(pod.metadata.name ?? '');

  if ((ds.spec.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate') {
    const maxUnavailable = Math.max(
      1,
      scaledValue(ds.spec.updateStrategy?.rollingUpdate?.maxUnavailable ?? 1, nodes.length, true),
    );
    let unavailable = nodes.filter((n) => !onNode(n).some(available)).length;
    const old = nodes
      .flatMap((n) => onNode(n).slice(0, 1))
      .filter((p) => !isNew(p) && !plan.deletePods.includes(p.metadata.name ?? ''));
    for (const pod of old.filter((p) => !available(p)))
      plan.deletePods.push(pod.metadata.name ?? '');
    for (const pod of old.filter(available)) {
      if (unavailable >= maxUnavailable) break;
      unavailable++;
      plan.deletePods.push(pod.metadata.name ?? '');
    }
  }

  const scheduled = nodes.filter((n) => onNode(n).length > 0);
  const next: Record<string, unknown> = {
    currentNumberScheduled: scheduled.length,
    desiredNumberScheduled: nodes.length,
    numberMisscheduled: new Set(misplaced.map(nodeOf)).size,
    numberReady: nodes.filter((n) => onNode(n).some(isPodReady)).length,
  };
  const availableNodes = nodes.filter((n) => onNode(n).some(available)).length;
  const updated = nodes.filter((n) => onNode(n).some(isNew)).length;
  if (availableNodes) next.numberAvailable = availableNodes;
  if (nodes.length - availableNodes) next.numberUnavailable = nodes.length - availableNodes;
  next.observedGeneration = ds.metadata.generation ?? 1;
  if (updated) next.updatedNumberScheduled = updated;
  if (stableStringify(next) !== stableStringify(ds.status ?? {})) plan.status = next;
  return plan;
}

function newPod(ds: DaemonSet, node: string, hash: string): KubeObject {
  const pod = podFromTemplate(ds, controllerRef(ds), {
    nodeName: node,
    labels: {
      'controller-revision-hash': hash,
      'pod-template-generation': String(ds.metadata.generation ?? 1),
    },
  });
  pod.spec = {
    ...(pod.spec as object),
    affinity: {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [
            { matchFields: [{ key: 'metadata.name', operator: 'In', values: [node] }] },
          ],
        },
      },
    },
  };
  return pod;
}
