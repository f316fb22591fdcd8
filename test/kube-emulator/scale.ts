import type { KubeObject } from './contract.js';
import { labelSelectorToString } from './label-selector.js';
import type { ResourceType, ScaleSubresource } from './resources/resource-type.js';

function readPath(object: unknown, path: string): unknown {
  let node = object;
  for (const part of path.replace(/^\./, '').split('.')) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

function writePath(object: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.replace(/^\./, '').split('.');
  const last = parts.pop() ?? '';
  let node = object;
  for (const part of parts) {
    const next = node[part];
    if (typeof next !== 'object' || next === null) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[last] = value;
}

function selectorOf(type: ResourceType, scale: ScaleSubresource, object: KubeObject): string {
  if (type.custom) {
    const selector = scale.labelSelectorPath
      ? readPath(object, scale.labelSelectorPath)
      : undefined;
    return typeof selector === 'string' ? selector : '';
  }
  const selector = readPath(object, '.spec.selector');
  return typeof selector === 'object' && selector !== null ? labelSelectorToString(selector) : '';
}

/** The autoscaling/v1 Scale view of an object with a `/scale` subresource. */
export function scaleOf(
  type: ResourceType,
  scale: ScaleSubresource,
  object: KubeObject,
): KubeObject {
  const { name, namespace, uid, resourceVersion, creationTimestamp } = object.metadata;
  const specReplicas = readPath(object, scale.specReplicasPath);
  const statusReplicas = readPath(object, scale.statusReplicasPath);
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: { name, namespace, uid, resourceVersion, creationTimestamp },
    spec: { replicas: typeof specReplicas === 'number' ? specReplicas : 0 },
    status: {
      replicas: typeof statusReplicas === 'number' ? statusReplicas : 0,
      selector: selectorOf(type, scale, object),
    },
  };
}

/** The object with `spec.replicas` (or the CRD's specReplicasPath) taken from a Scale. */
export function withScale(
  scale: ScaleSubresource,
  object: KubeObject,
  desired: KubeObject,
): KubeObject {
  const replicas = (desired.spec as { replicas?: unknown } | undefined)?.replicas;
  const copy = structuredClone(object);
  writePath(copy, scale.specReplicasPath, typeof replicas === 'number' ? replicas : 0);
  const rv = desired.metadata.resourceVersion;
  if (rv) copy.metadata.resourceVersion = rv;
  return copy;
}
