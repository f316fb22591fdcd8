import type { KubeObject } from '../kube-emulator/contract.js';
import type { KubeEmulator } from '../kube-emulator/index.js';
import type { PolicyRule } from '../kube-emulator/rbac/authorizer.js';
import { CLUSTER_RULES, NAMESPACE_RULES, type RbacRule } from '../../src/install/rbac-rules.js';

const RBAC = 'rbac.authorization.k8s.io';

export interface CvmRbacOptions {
  /** cvm's namespace (the ServiceAccount's and the Lease's); default `cvm-system`. */
  namespace?: string;
  /** The ServiceAccount; default `cvm`. */
  name?: string;
  clusterRules?: readonly RbacRule[];
  namespaceRules?: readonly RbacRule[];
}

/** The rules as the emulator (and kube-apiserver) stores them: plain mutable arrays. */
export function policyRules(rules: readonly RbacRule[]): PolicyRule[] {
  return rules.map((r) => ({
    apiGroups: [...r.apiGroups],
    resources: [...r.resources],
    verbs: [...r.verbs],
    ...(r.resourceNames ? { resourceNames: [...r.resourceNames] } : {}),
  }));
}

/**
 * Sets up cvm's identity as the install does: namespace, ServiceAccount, a ClusterRole with
 * {@link CLUSTER_RULES} bound by a ClusterRoleBinding, a Role with {@link NAMESPACE_RULES} in
 * cvm's namespace bound by a RoleBinding (written as the admin, straight to the store). Returns a
 * kubeconfig whose user is that ServiceAccount (a fresh token).
 */
export function installCvmRbac(emulator: KubeEmulator, options: CvmRbacOptions = {}): string {
  const namespace = options.namespace ?? 'cvm-system';
  const name = options.name ?? 'cvm';
  const { store } = emulator;
  const create = (
    resource: string,
    object: Record<string, unknown> & { metadata: KubeObject['metadata'] },
  ) => {
    const existing = store.get(resource, object.metadata.namespace, object.metadata.name ?? '');
    if (existing) store.update(resource, { ...existing, ...object });
    else store.create(resource, object as KubeObject);
  };
  create('namespaces', { metadata: { name: namespace } });
  create('serviceaccounts', { metadata: { name, namespace } });
  const subjects = [{ kind: 'ServiceAccount', name, namespace }];
  create(`clusterroles.${RBAC}`, {
    metadata: { name },
    rules: policyRules(options.clusterRules ?? CLUSTER_RULES),
  });
  create(`clusterrolebindings.${RBAC}`, {
    metadata: { name },
    roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name },
    subjects,
  });
  create(`roles.${RBAC}`, {
    metadata: { name, namespace },
    rules: policyRules(options.namespaceRules ?? NAMESPACE_RULES),
  });
  create(`rolebindings.${RBAC}`, {
    metadata: { name, namespace },
    roleRef: { apiGroup: RBAC, kind: 'Role', name },
    subjects,
  });
  return emulator.writeServiceAccountKubeconfig(namespace, name);
}
