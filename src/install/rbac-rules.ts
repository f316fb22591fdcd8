/**
 * The RBAC rules of cvm's ServiceAccount, as plain data: every verb on every resource that
 * `src/kube` calls, and nothing else (least privilege). `src/install` puts them in the
 * ClusterRole and the Role of the install; the RBAC tests run cvm's flows under them.
 */

/** One `rules[]` entry of a Role or ClusterRole. */
export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

/** Name of the Lease the reconcilers elect their leader with (see `reconciler-role.ts`). */
export const LEASE_NAME = 'cvm-reconciler';

/** Cluster-wide: CVs and the workloads they select live in any namespace. */
export const CLUSTER_RULES: readonly PolicyRule[] = [
  // The CV informer lists and watches all namespaces; the store reads one, patches its status and,
  // for a request of the REST API, its `cvm.dev/request` annotation.
  {
    apiGroups: ['cvm.dev'],
    resources: ['containerversions'],
    verbs: ['get', 'list', 'watch', 'patch'],
  },
  { apiGroups: ['cvm.dev'], resources: ['containerversions/status'], verbs: ['patch'] },
  // Workloads: watched cluster-wide, listed by selector, read and patched in a rollout.
  {
    apiGroups: ['apps'],
    resources: ['deployments', 'statefulsets', 'daemonsets'],
    verbs: ['get', 'list', 'watch', 'patch'],
  },
  { apiGroups: ['batch'], resources: ['cronjobs'], verbs: ['get', 'list', 'watch', 'patch'] },
  // Verify Jobs: created, read, watched (by label) and deleted when done.
  {
    apiGroups: ['batch'],
    resources: ['jobs'],
    verbs: ['create', 'get', 'list', 'watch', 'delete'],
  },
  // Events on CVs and workloads (a repeated one is patched: count, lastTimestamp); the REST API
  // lists a CV's.
  { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch', 'list'] },
  // The history ConfigMap `<cv>-history` next to each CV.
  { apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'create', 'update'] },
  // BlueGreen: the live and preview Services' selectors; Canary: the canary's Pods.
  { apiGroups: [''], resources: ['services'], verbs: ['get', 'patch'] },
  { apiGroups: [''], resources: ['pods'], verbs: ['list'] },
  // The nodes' architectures, checked against the image's platforms.
  { apiGroups: [''], resources: ['nodes'], verbs: ['list'] },
];

/** In cvm's own namespace: the reconciler's leader Lease (create has no name to restrict by). */
export const NAMESPACE_RULES: readonly PolicyRule[] = [
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
  {
    apiGroups: ['coordination.k8s.io'],
    resources: ['leases'],
    resourceNames: [LEASE_NAME],
    verbs: ['get', 'update'],
  },
];
