import type { KubeObject, ObjectMeta } from '../contract.js';
import {
  desiredSubsets,
  isServiceIPSet,
  selectorMatches,
  type EndpointAddress,
  type Endpoints,
  type EndpointSubset,
  type Service,
} from './endpoints-subsets.js';
import { kubeTime } from './kube-time.js';
import { stableStringify } from './template-hash.js';

/** `v1.EndpointsLastChangeTriggerTime`: when the Pod or Service change behind this write happened. */
export const lastChangeTriggerTimeAnnotation = 'endpoints.kubernetes.io/last-change-trigger-time';
/** `v1.EndpointsOverCapacity`: the controller removes it (it never truncates). */
export const overCapacityAnnotation = 'endpoints.kubernetes.io/over-capacity';
/** `v1.IsHeadlessService`: on the Endpoints of a Service without a cluster IP. */
export const headlessLabel = 'service.kubernetes.io/headless';

export type EndpointsPlan =
  { action: 'none' } | { action: 'create' | 'update'; endpoints: Endpoints };

function withoutKey(labels: Record<string, string> | undefined, key: string) {
  const copy = { ...(labels ?? {}) };
  delete copy[key];
  return copy;
}

/** Subsets compared as the controller does: targetRef resourceVersions ignored, absent = empty. */
function comparable(subsets: EndpointSubset[] | undefined): string {
  const strip = (addresses: EndpointAddress[] | undefined) =>
    addresses?.map((a) => ({ ...a, targetRef: { ...a.targetRef, resourceVersion: undefined } }));
  return stableStringify(
    (subsets ?? []).map((s) => ({
      ...s,
      addresses: strip(s.addresses),
      notReadyAddresses: strip(s.notReadyAddresses),
    })),
  );
}

/**
 * One pass of the endpoints controller for a Service it manages (`managesEndpoints`):
 * create the Endpoints of the same name, update it when its subsets or labels differ from the
 * desired ones, or nothing (no write, so no watch event). Labels are the Service's plus
 * `service.kubernetes.io/headless` for a Service without a cluster IP; a write sets the
 * last-change-trigger-time annotation to `triggerTimeMs` or removes it when undefined. Pure.
 */
export function planEndpointsSync(
  service: Service,
  pods: KubeObject[],
  current: Endpoints | undefined,
  triggerTimeMs: number | undefined,
): EndpointsPlan {
  const selector = service.spec?.selector ?? {};
  const subsets = desiredSubsets(
    service,
    pods.filter((p) => selectorMatches(selector, p.metadata.labels)),
  );
  const serviceLabels = service.metadata.labels ?? {};
  if (
    current &&
    comparable(current.subsets) === comparable(subsets) &&
    stableStringify(withoutKey(current.metadata.labels, headlessLabel)) ===
      stableStringify(serviceLabels) &&
    current.metadata.annotations?.[overCapacityAnnotation] === undefined
  ) {
    return { action: 'none' };
  }
  const labels: Record<string, string> = isServiceIPSet(service)
    ? withoutKey(serviceLabels, headlessLabel)
    : { ...serviceLabels, [headlessLabel]: '' };
  const annotations = withoutKey(
    withoutKey(current?.metadata.annotations, lastChangeTriggerTimeAnnotation),
    overCapacityAnnotation,
  );
  if (triggerTimeMs !== undefined) {
    annotations[lastChangeTriggerTimeAnnotation] = kubeTime(triggerTimeMs);
  }
  const metadata: ObjectMeta = {
    ...(current?.metadata ?? {
      name: service.metadata.name,
      namespace: service.metadata.namespace,
    }),
    labels,
    annotations,
  };
  if (Object.keys(labels).length === 0) delete metadata.labels;
  if (Object.keys(annotations).length === 0) delete metadata.annotations;
  const endpoints: Endpoints = {
    ...(current ?? {}),
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata,
  };
  if (subsets.length > 0) endpoints.subsets = subsets;
  else delete endpoints.subsets;
  return { action: current ? 'update' : 'create', endpoints };
}
