import type { ResourceType } from './resource-type.js';

type Row = [
  group: string,
  plural: string,
  kind: string,
  namespaced: boolean,
  shortNames: string[],
  categories: string[],
  storageVersionHash: string,
  flags: { status?: boolean; scale?: boolean; generation?: boolean },
];

/** Built-in resources as a v1.24 kube-apiserver lists them (reference/kube-captures/discovery.json). */
const rows: Row[] = [
  ['', 'namespaces', 'Namespace', false, ['ns'], [], 'Q3oi5N2YM8M=', { status: true }],
  ['', 'configmaps', 'ConfigMap', true, ['cm'], [], 'qFsyl6wFWjQ=', {}],
  ['', 'secrets', 'Secret', true, [], [], 'S6u1pOWzb84=', {}],
  ['', 'services', 'Service', true, ['svc'], ['all'], '0/CO1lhkEBI=', { status: true }],
  ['', 'endpoints', 'Endpoints', true, ['ep'], [], 'fWeeMqaN/OA=', {}],
  ['', 'pods', 'Pod', true, ['po'], ['all'], 'xPOwRZ+Yhw8=', { status: true }],
  ['', 'events', 'Event', true, ['ev'], [], 'r2yiGXH7wu8=', {}],
  ['', 'serviceaccounts', 'ServiceAccount', true, ['sa'], [], 'pbx9ZvyFpBE=', {}],
  ['', 'nodes', 'Node', false, ['no'], [], 'XwShjMxG9Fs=', { status: true }],
  [
    'apps',
    'deployments',
    'Deployment',
    true,
    ['deploy'],
    ['all'],
    '8aSe+NMegvE=',
    { status: true, scale: true, generation: true },
  ],
  [
    'apps',
    'replicasets',
    'ReplicaSet',
    true,
    ['rs'],
    ['all'],
    'P1RzHs8/mWQ=',
    { status: true, scale: true, generation: true },
  ],
  [
    'apps',
    'statefulsets',
    'StatefulSet',
    true,
    ['sts'],
    ['all'],
    'H+vl74LkKdo=',
    { status: true, scale: true, generation: true },
  ],
  [
    'apps',
    'daemonsets',
    'DaemonSet',
    true,
    ['ds'],
    ['all'],
    'dd7pWHUlMKQ=',
    { status: true, generation: true },
  ],
  ['apps', 'controllerrevisions', 'ControllerRevision', true, [], [], '85nkx63pcBU=', {}],
  ['batch', 'jobs', 'Job', true, [], ['all'], 'mudhfqk/qZY=', { status: true, generation: true }],
  [
    'batch',
    'cronjobs',
    'CronJob',
    true,
    ['cj'],
    ['all'],
    'sd5LIXh4Fjs=',
    { status: true, generation: true },
  ],
  ['coordination.k8s.io', 'leases', 'Lease', true, [], [], 'gqkMMb/YqFM=', {}],
  ['events.k8s.io', 'events', 'Event', true, ['ev'], [], 'r2yiGXH7wu8=', {}],
  // rbac.authorization.k8s.io/v1: what the emulator's RBAC authorizer reads (see rbac/).
  ['rbac.authorization.k8s.io', 'roles', 'Role', true, [], [], '7FuwZcIIItM=', {}],
  ['rbac.authorization.k8s.io', 'rolebindings', 'RoleBinding', true, [], [], 'eGsCzGH6b1g=', {}],
  ['rbac.authorization.k8s.io', 'clusterroles', 'ClusterRole', false, [], [], 'bYE5ZWDrJ44=', {}],
  [
    'rbac.authorization.k8s.io',
    'clusterrolebindings',
    'ClusterRoleBinding',
    false,
    [],
    [],
    '48tpQ8gZHFc=',
    {},
  ],
  [
    'apiextensions.k8s.io',
    'customresourcedefinitions',
    'CustomResourceDefinition',
    false,
    ['crd', 'crds'],
    ['api-extensions'],
    'jfWCUB31mvA=',
    { status: true, generation: true },
  ],
];

/** Fresh ResourceType values for every built-in resource (without defaulters; see defaults.ts). */
export function builtinResourceTypes(): ResourceType[] {
  return rows.map(([group, plural, kind, namespaced, shortNames, categories, hash, flags]) => ({
    group,
    version: 'v1',
    plural,
    kind,
    listKind: `${kind}List`,
    singularName: '',
    namespaced,
    shortNames,
    categories,
    storageVersionHash: hash,
    status: flags.status ?? false,
    ...(flags.scale
      ? {
          scale: {
            specReplicasPath: '.spec.replicas',
            statusReplicasPath: '.status.replicas',
            labelSelectorPath: '.status.selector',
          },
        }
      : {}),
    generation: flags.generation ?? false,
    custom: false,
  }));
}
