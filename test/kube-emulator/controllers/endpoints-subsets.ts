import type { KubeObject } from '../contract.js';
import { isPodReady, podPhase } from './pod-status.js';
import { stableStringify } from './template-hash.js';

export interface ServicePort {
  name?: string;
  port: number;
  targetPort?: number | string;
  protocol?: string;
  appProtocol?: string;
}

export interface Service extends KubeObject {
  spec?: {
    selector?: Record<string, string>;
    ports?: ServicePort[];
    type?: string;
    clusterIP?: string;
    ipFamilies?: string[];
    publishNotReadyAddresses?: boolean;
  };
}

export interface EndpointAddress {
  ip: string;
  hostname?: string;
  nodeName: string;
  targetRef: {
    kind: 'Pod';
    namespace: string;
    name: string;
    uid: string;
    resourceVersion?: string;
  };
}

export interface EndpointPort {
  name?: string;
  port: number;
  protocol: string;
  appProtocol?: string;
}

export interface EndpointSubset {
  addresses?: EndpointAddress[];
  notReadyAddresses?: EndpointAddress[];
  ports?: EndpointPort[];
}

export interface Endpoints extends KubeObject {
  subsets?: EndpointSubset[];
}

/** Whether the endpoints controller maintains this Service's Endpoints (a selector, not ExternalName). */
export function managesEndpoints(service: Service): boolean {
  const selector = service.spec?.selector;
  return (
    service.spec?.type !== 'ExternalName' &&
    selector !== undefined &&
    selector !== null &&
    Object.keys(selector).length > 0
  );
}

/** `labels.Set(selector).AsSelector().Matches(labels)`: every selector pair is among the labels. */
export function selectorMatches(
  selector: Record<string, string>,
  labels: Record<string, string> | undefined,
): boolean {
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

interface PodSpec {
  nodeName?: string;
  hostname?: string;
  subdomain?: string;
  containers?: { ports?: ContainerPort[] }[];
  initContainers?: { restartPolicy?: string; ports?: ContainerPort[] }[];
}

interface ContainerPort {
  name?: string;
  containerPort: number;
  protocol?: string;
}

/** `ShouldPodBeInEndpoints`: not terminal, has an IP, and not being deleted (unless published). */
function shouldPodBeInEndpoints(pod: KubeObject, includeTerminating: boolean): boolean {
  const phase = podPhase(pod);
  if (phase === 'Succeeded' || phase === 'Failed') return false;
  const status = pod.status as { podIP?: string; podIPs?: { ip?: string }[] } | undefined;
  if (!status?.podIP && !(status?.podIPs ?? []).some((p) => p.ip)) return false;
  return includeTerminating || !pod.metadata.deletionTimestamp;
}

/** The Pod IP of the Service's first IP family (`podToEndpointAddressForService`). */
function podIP(service: Service, pod: KubeObject): string | undefined {
  const status = pod.status as { podIP?: string; podIPs?: { ip?: string }[] } | undefined;
  const ips = (status?.podIPs ?? [{ ip: status?.podIP }]).map((p) => p.ip ?? '');
  const ipv6 = (service.spec?.ipFamilies?.[0] ?? 'IPv4') === 'IPv6';
  return ips.find((ip) => ip !== '' && ip.includes(':') === ipv6);
}

function address(service: Service, pod: KubeObject, ip: string): EndpointAddress {
  const spec = (pod.spec ?? {}) as PodSpec;
  const sameSubdomain =
    spec.hostname &&
    spec.subdomain === service.metadata.name &&
    pod.metadata.namespace === service.metadata.namespace;
  return {
    ip,
    ...(sameSubdomain ? { hostname: spec.hostname } : {}),
    nodeName: spec.nodeName ?? '',
    targetRef: {
      kind: 'Pod',
      namespace: pod.metadata.namespace ?? '',
      name: pod.metadata.name ?? '',
      uid: pod.metadata.uid ?? '',
    },
  };
}

/**
 * `podutil.FindPort`: a numeric targetPort as is (absent: the port), a named one from the
 * container ports (and restartable init containers) of that name and protocol.
 */
export function findPort(pod: KubeObject, servicePort: ServicePort): number | undefined {
  const target = servicePort.targetPort ?? servicePort.port;
  if (typeof target === 'number') return target;
  const protocol = servicePort.protocol ?? 'TCP';
  const spec = (pod.spec ?? {}) as PodSpec;
  const sidecars = (spec.initContainers ?? []).filter((c) => c.restartPolicy === 'Always');
  for (const container of [...(spec.containers ?? []), ...sidecars]) {
    const found = (container.ports ?? []).find(
      (p) => p.name === target && (p.protocol ?? 'TCP') === protocol,
    );
    if (found) return found.containerPort;
  }
  return undefined;
}

function endpointPort(servicePort: ServicePort, port: number): EndpointPort {
  return {
    ...(servicePort.name ? { name: servicePort.name } : {}),
    port,
    protocol: servicePort.protocol ?? 'TCP',
    ...(servicePort.appProtocol ? { appProtocol: servicePort.appProtocol } : {}),
  };
}

function byIPThenUid(a: EndpointAddress, b: EndpointAddress): number {
  if (a.ip !== b.ip) return a.ip < b.ip ? -1 : 1;
  return a.targetRef.uid < b.targetRef.uid ? -1 : a.targetRef.uid > b.targetRef.uid ? 1 : 0;
}

interface PortEntry {
  port: EndpointPort | undefined;
  addresses: Map<string, { address: EndpointAddress; ready: boolean }>;
}

/**
 * The Endpoints `subsets` for `service` over the Pods its selector matches, in the canonical
 * layout of `endpoints.RepackSubsets`: ports offered by the same addresses share a subset; Ready
 * Pods go to `addresses`, the others to `notReadyAddresses` (all to `addresses` with
 * `publishNotReadyAddresses`); addresses sorted by IP then uid. Kubernetes orders ports and
 * subsets by a hash; here they keep the Service's port order. Empty when no Pod qualifies.
 */
export function desiredSubsets(service: Service, pods: KubeObject[]): EndpointSubset[] {
  const publishNotReady = service.spec?.publishNotReadyAddresses === true;
  const servicePorts = service.spec?.ports ?? [];
  const entries = new Map<string, PortEntry>();
  const add = (port: EndpointPort | undefined, addr: EndpointAddress, ready: boolean) => {
    const key = port ? stableStringify(port) : '<no ports>';
    const entry = entries.get(key) ?? { port, addresses: new Map() };
    entries.set(key, entry);
    const addrKey = `${addr.ip}/${addr.targetRef.uid}`;
    // Not ready wins over ready for the same address and port, as in mapAddressByPort.
    const previous = entry.addresses.get(addrKey);
    entry.addresses.set(addrKey, { address: addr, ready: ready && (previous?.ready ?? true) });
  };
  for (const pod of pods) {
    if (!shouldPodBeInEndpoints(pod, publishNotReady)) continue;
    const ip = podIP(service, pod);
    if (ip === undefined) continue;
    const addr = address(service, pod, ip);
    const ready = publishNotReady || isPodReady(pod);
    if (servicePorts.length === 0) {
      if (service.spec?.clusterIP === 'None') add(undefined, addr, ready);
      continue;
    }
    for (const servicePort of servicePorts) {
      const port = findPort(pod, servicePort);
      if (port !== undefined) add(endpointPort(servicePort, port), addr, ready);
    }
  }
  const groups = new Map<string, { entry: PortEntry; ports: EndpointPort[] }>();
  for (const entry of entries.values()) {
    const key = [...entry.addresses.entries()]
      .map(([k, v]) => `${k}/${v.ready}`)
      .sort()
      .join(',');
    const group = groups.get(key) ?? { entry, ports: [] };
    groups.set(key, group);
    if (entry.port) group.ports.push(entry.port);
  }
  return [...groups.values()].map(({ entry, ports }) => {
    const all = [...entry.addresses.values()];
    const ready = all.filter((a) => a.ready).map((a) => a.address);
    const notReady = all.filter((a) => !a.ready).map((a) => a.address);
    return {
      ...(ready.length > 0 ? { addresses: ready.sort(byIPThenUid) } : {}),
      ...(notReady.length > 0 ? { notReadyAddresses: notReady.sort(byIPThenUid) } : {}),
      ...(ports.length > 0 ? { ports } : {}),
    };
  });
}

/** `helper.IsServiceIPSet`: a cluster IP that is neither empty nor `None`. */
export function isServiceIPSet(service: Service): boolean {
  const ip = service.spec?.clusterIP;
  return typeof ip === 'string' && ip !== '' && ip !== 'None';
}
