import type { KubeObject, OwnerReference } from '../contract.js';
import type { PodTemplate } from './deployment-types.js';

/**
 * A Pod from a workload's template, as `controller.GetPodFromTemplate` makes it: the template's
 * labels, annotations and spec, `generateName` `<owner>-` unless a name is given, and a
 * controller ownerReference.
 */
export function podFromTemplate(
  owner: KubeObject & { spec: { template?: PodTemplate } },
  ref: OwnerReference,
  overrides: { name?: string; labels?: Record<string, string>; nodeName?: string } = {},
): KubeObject {
  const template = structuredClone(owner.spec.template ?? {});
  const labels = { ...(template.metadata?.labels ?? {}), ...(overrides.labels ?? {}) };
  const annotations = template.metadata?.annotations;
  const spec = { ...(template.spec ?? {}) };
  if (overrides.nodeName) spec.nodeName = overrides.nodeName;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      ...(overrides.name
        ? { name: overrides.name }
        : { generateName: `${owner.metadata.name ?? ''}-` }),
      namespace: owner.metadata.namespace,
      labels,
      ...(annotations ? { annotations: { ...annotations } } : {}),
      ownerReferences: [ref],
    },
    spec,
  };
}
