import type { KubeObject } from '../contract.js';
import { ageSince } from './human-duration.js';
import { formatLabels } from './label-format.js';
import {
  ageColumn,
  column,
  creationTimestampDescription,
  nameColumn,
  type TablePrinter,
} from './table-printer.js';

function age(object: KubeObject, nowMs: number): string {
  return ageSince(object.metadata.creationTimestamp, nowMs);
}

function count(map: unknown): number {
  return typeof map === 'object' && map !== null ? Object.keys(map).length : 0;
}

interface ServicePort {
  port: number;
  nodePort?: number;
  protocol?: string;
}

function externalIp(service: KubeObject): string {
  const spec = (service.spec ?? {}) as {
    type?: string;
    externalIPs?: string[];
    externalName?: string;
  };
  const external = spec.externalIPs ?? [];
  switch (spec.type ?? 'ClusterIP') {
    case 'ClusterIP':
    case 'NodePort':
      return external.length > 0 ? external.join(',') : '<none>';
    case 'LoadBalancer': {
      const ingress = (service.status?.loadBalancer?.ingress ?? []) as {
        ip?: string;
        hostname?: string;
      }[];
      const lb = [
        ...new Set(ingress.map((i) => i.ip || i.hostname || '').filter((a) => a !== '')),
      ].sort();
      const all = [...lb, ...external];
      return all.length > 0 ? all.join(',') : '<pending>';
    }
    case 'ExternalName':
      return spec.externalName ?? '';
    default:
      return '<unknown>';
  }
}

function ports(service: KubeObject): string {
  const list = (service.spec?.ports ?? []) as ServicePort[];
  const text = list
    .map((p) =>
      p.nodePort ? `${p.port}:${p.nodePort}/${p.protocol ?? ''}` : `${p.port}/${p.protocol ?? ''}`,
    )
    .join(',');
  return text || '<none>';
}

export const servicePrinter: TablePrinter = {
  columns: [
    nameColumn,
    column('Type', 'type determines how the Service is exposed.'),
    column('Cluster-IP', 'clusterIP is the IP address of the service.'),
    column(
      'External-IP',
      'externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.',
    ),
    column('Port(s)', 'The list of ports that are exposed by this service.'),
    ageColumn,
    column(
      'Selector',
      'Route service traffic to pods with label keys and values matching this selector.',
      { wide: true },
    ),
  ],
  cells: (svc, nowMs) => [
    svc.metadata.name ?? '',
    String(svc.spec?.type ?? ''),
    (svc.spec?.clusterIPs as string[] | undefined)?.[0] ?? '<none>',
    externalIp(svc),
    ports(svc),
    age(svc, nowMs),
    formatLabels(svc.spec?.selector),
  ],
};

export const configMapPrinter: TablePrinter = {
  columns: [nameColumn, column('Data', 'Data contains the configuration data.'), ageColumn],
  cells: (cm, nowMs) => [
    cm.metadata.name ?? '',
    count(cm.data) + count(cm.binaryData),
    age(cm, nowMs),
  ],
};

export const secretPrinter: TablePrinter = {
  columns: [
    nameColumn,
    column('Type', 'Used to facilitate programmatic handling of secret data.'),
    column('Data', 'Data contains the secret data.'),
    ageColumn,
  ],
  cells: (s, nowMs) => [
    s.metadata.name ?? '',
    typeof s.type === 'string' ? s.type : '',
    count(s.data),
    age(s, nowMs),
  ],
};

export const serviceAccountPrinter: TablePrinter = {
  columns: [
    nameColumn,
    column(
      'Secrets',
      'Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.',
    ),
    ageColumn,
  ],
  cells: (sa, nowMs) => [
    sa.metadata.name ?? '',
    ((sa.secrets ?? []) as unknown[]).length,
    age(sa, nowMs),
  ],
};

export const namespacePrinter: TablePrinter = {
  columns: [nameColumn, column('Status', 'The status of the namespace'), ageColumn],
  cells: (ns, nowMs) => [ns.metadata.name ?? '', String(ns.status?.phase ?? ''), age(ns, nowMs)],
};

export const leasePrinter: TablePrinter = {
  columns: [
    nameColumn,
    column('Holder', 'holderIdentity contains the identity of the holder of a current lease.'),
    ageColumn,
  ],
  cells: (lease, nowMs) => [
    lease.metadata.name ?? '',
    String(lease.spec?.holderIdentity ?? ''),
    age(lease, nowMs),
  ],
};

function nodeStatus(node: KubeObject): string {
  const ready = ((node.status?.conditions ?? []) as { type: string; status: string }[]).find(
    (c) => c.type === 'Ready',
  );
  const status = ready ? [ready.status === 'True' ? 'Ready' : 'NotReady'] : ['Unknown'];
  if (node.spec?.unschedulable === true) status.push('SchedulingDisabled');
  return status.join(',');
}

function nodeRoles(node: KubeObject): string {
  const roles = new Set<string>();
  for (const [key, value] of Object.entries(node.metadata.labels ?? {})) {
    if (
      key.startsWith('node-role.kubernetes.io/') &&
      key.length > 'node-role.kubernetes.io/'.length
    ) {
      roles.add(key.slice('node-role.kubernetes.io/'.length));
    } else if (key === 'kubernetes.io/role' && value !== '') roles.add(value);
  }
  return [...roles].sort().join(',') || '<none>';
}

function nodeAddress(node: KubeObject, type: string): string {
  const found = ((node.status?.addresses ?? []) as { type: string; address: string }[]).find(
    (a) => a.type === type,
  );
  return found?.address ?? '<none>';
}

function nodeInfo(node: KubeObject, key: string): string {
  const value = (node.status?.nodeInfo as Record<string, unknown> | undefined)?.[key];
  return typeof value === 'string' && value !== '' ? value : '<unknown>';
}

export const nodePrinter: TablePrinter = {
  columns: [
    nameColumn,
    column('Status', 'The status of the node'),
    column('Roles', 'The roles of the node'),
    ageColumn,
    column('Version', 'Kubelet Version reported by the node.'),
    column('Internal-IP', 'List of addresses reachable to the node.', { wide: true }),
    column('External-IP', 'List of addresses reachable to the node.', { wide: true }),
    column(
      'OS-Image',
      'OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).',
      { wide: true },
    ),
    column(
      'Kernel-Version',
      "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).",
      { wide: true },
    ),
    column(
      'Container-Runtime',
      'ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).',
      { wide: true },
    ),
  ],
  cells: (node, nowMs) => [
    node.metadata.name ?? '',
    nodeStatus(node),
    nodeRoles(node),
    age(node, nowMs),
    String(
      (node.status?.nodeInfo as { kubeletVersion?: string } | undefined)?.kubeletVersion ?? '',
    ),
    nodeAddress(node, 'InternalIP'),
    nodeAddress(node, 'ExternalIP'),
    nodeInfo(node, 'osImage'),
    nodeInfo(node, 'kernelVersion'),
    nodeInfo(node, 'containerRuntimeVersion'),
  ],
};

/** Resources without a printer of their own (rest.NewDefaultTableConvertor): NAME, CREATED AT. */
export const defaultPrinter: TablePrinter = {
  columns: [nameColumn, column('Created At', creationTimestampDescription, { type: 'date' })],
  cells: (o) => [o.metadata.name ?? '', o.metadata.creationTimestamp ?? null],
};
