/**
 * The permissions cvm's ServiceAccount needs, as data: the install's ClusterRole and its Role in
 * cvm's own namespace are built from these rules. Each rule is one API call site (or a few) in
 * `src/kube`; `test/install/least-privilege-e2e.test.ts` runs every flow as the ServiceAccount
 * bound to exactly these rules and fails when a request is forbidden or when a granted verb was
 * never used.
 */

/** One rbac.authorization.k8s.io/v1 PolicyRule. */
export interface RbacRule {
  readonly apiGroups: readonly string[];
  readonly resources: readonly string[];
  readonly verbs: readonly string[];
  /** Only these object names (never restricts create, list or watch). */
  readonly resourceNames?: readonly string[];
}

/** The name of the reconciler's leader-election Lease (`src/reconciler/reconciler-role.ts`). */
export const LEASE_NAME = 'cvm-reconciler';

/** Rules of the ClusterRole (workloads and CVs live in any namespace). */
export const CLUSTER_RULES: readonly RbacRule[] = [
  // ContainerVersionInformer lists and watches CVs across namespaces; the store reads one and
  // merge-patches it for the REST API's requests (the `cvm.dev/request` annotation, spec.suspend).
  {
    apiGroups: ['cvm.dev'],
    resources: ['containerversions'],
    verbs: ['get', 'list', 'watch', 'patch'],
  },
  // KubeContainerVersionStore.patchStatus: every status write (merge patch on /status).
  { apiGroups: ['cvm.dev'], resources: ['containerversions/status'], verbs: ['patch'] },
  // KubeWorkloadClient list/get/patch (strategic merge) and KubeWorkloadWatcher list+watch over
  // all namespaces (it caches every workload kind for the REST API).
  {
    apiGroups: ['apps'],
    resources: ['deployments', 'statefulsets', 'daemonsets'],
    verbs: ['get', 'list', 'watch', 'patch'],
  },
  { apiGroups: ['batch'], resources: ['cronjobs'], verbs: ['get', 'list', 'watch', 'patch'] },
  // KubeVerifyRunner creates, reads and deletes verify Jobs; the watcher lists and watches them.
  {
    apiGroups: ['batch'],
    resources: ['jobs'],
    verbs: ['get', 'list', 'watch', 'create', 'delete'],
  },
  // ConfigMapHistoryStore: `<cv>-history` read, created, replaced.
  { apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'create', 'update'] },
  // KubeEventRecorder: new Events and count bumps on repeated ones (core v1); KubeEventReader
  // lists a CV's Events for the REST API.
  { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch', 'list'] },
  // KubeServiceClient: BlueGreen reads a Service and switches its selector.
  { apiGroups: [''], resources: ['services'], verbs: ['get', 'patch'] },
  // KubePodReader: Canary judges the canary's Pods (readiness, restarts).
  { apiGroups: [''], resources: ['pods'], verbs: ['list'] },
  // KubeNodeInfo: node architectures for the image platform check.
  { apiGroups: [''], resources: ['nodes'], verbs: ['list'] },
];

/** Rules of the Role in cvm's own namespace (CVM_LEASE_NAMESPACE): the reconciler's Lease. */
export const NAMESPACE_RULES: readonly RbacRule[] = [
  // LeaseElector: the first reconciler creates the Lease (create cannot be limited by name).
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
  // LeaseElector: read, acquire and renew (replace) that one Lease.
  {
    apiGroups: ['coordination.k8s.io'],
    resources: ['leases'],
    resourceNames: [LEASE_NAME],
    verbs: ['get', 'update'],
  },
];

/** Name of the ClusterRole for CI and people who run the `cvm` CLI through a kubeconfig. */
export const CI_ROLE = 'cvm-ci';

/**
 * Rules of the ClusterRole `cvm-ci`, bound by a RoleBinding in each namespace whose CVs a CI
 * ServiceAccount (or a person) acts on with `cvm wait`, `status`, `history`, `rollback`, `sync`,
 * `suspend`, `resume` and `cvm rollout …`. The install ships it unbound.
 */
export const CI_RULES: readonly RbacRule[] = [
  // KubeContainerVersionAccess: read one CV, list them (status), watch one (wait), and
  // merge-patch its cvm.dev/request annotation or spec.suspend (the actions).
  {
    apiGroups: ['cvm.dev'],
    resources: ['containerversions'],
    verbs: ['get', 'list', 'watch', 'patch'],
  },
  // ConfigMapHistoryStore.list: the `<cv>-history` ConfigMap (history, rollback --to).
  { apiGroups: [''], resources: ['configmaps'], verbs: ['get'] },
  // KubeEventReader: the CV's Events, printed when a wait fails.
  { apiGroups: [''], resources: ['events'], verbs: ['list'] },
  // The progress lines of `cvm wait`: replicas of the workloads a rollout in flight touched.
  {
    apiGroups: ['apps'],
    resources: ['deployments', 'statefulsets', 'daemonsets'],
    verbs: ['get'],
  },
  { apiGroups: ['batch'], resources: ['cronjobs'], verbs: ['get'] },
];
