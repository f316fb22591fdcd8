/**
 * kube-apiserver's RBAC authorizer (plugin/pkg/auth/authorizer/rbac, v1.32) as pure functions:
 * a request's attributes against the Roles, ClusterRoles, RoleBindings and ClusterRoleBindings
 * of the store. Allow-only, as RBAC is: a request no rule grants is denied.
 */

/** Who sends a request, as the authenticator resolved it. */
export interface UserInfo {
  /** `system:serviceaccount:<namespace>:<name>` for a ServiceAccount token. */
  name: string;
  groups: string[];
}

/** authorizer.Attributes of a resource request (non-resource requests are not authorized here). */
export interface ResourceAttributes {
  verb: string;
  apiGroup: string;
  apiVersion: string;
  /** The plural, without the subresource: `deployments`. */
  resource: string;
  subresource?: string;
  /** Empty for cluster-scoped resources and for lists or watches across all namespaces. */
  namespace?: string;
  /** Empty for create, list, watch and deletecollection (unless a `metadata.name` field selector names it). */
  name?: string;
}

/** One rule of a Role or ClusterRole (rbac/v1 PolicyRule). */
export interface PolicyRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

interface Subject {
  kind: string;
  name: string;
  namespace?: string;
}

interface RoleRef {
  kind: string;
  name: string;
}

/** The RBAC objects the authorizer reads, as stored (only the fields it uses). */
export interface RbacObjects {
  roles: RbacRoleObject[];
  clusterRoles: RbacRoleObject[];
  roleBindings: RbacBindingObject[];
  clusterRoleBindings: RbacBindingObject[];
}

export interface RbacRoleObject {
  metadata: { name?: string; namespace?: string };
  rules?: PolicyRule[];
}

export interface RbacBindingObject {
  metadata: { name?: string; namespace?: string };
  roleRef?: RoleRef;
  subjects?: Subject[];
}

export interface Decision {
  allowed: boolean;
  /** On allow: which binding and role granted it, as kube-apiserver's audit reason says it. */
  reason: string;
}

/** The user name kube-apiserver gives a ServiceAccount (serviceaccount.MakeUsername). */
export function serviceAccountUser(namespace: string, name: string): UserInfo {
  return {
    name: `system:serviceaccount:${namespace}:${name}`,
    groups: [
      'system:serviceaccounts',
      `system:serviceaccounts:${namespace}`,
      'system:authenticated',
    ],
  };
}

function has(list: string[] | undefined, value: string): boolean {
  return (list ?? []).some((item) => item === '*' || item === value);
}

/** rbac.ResourceMatches: `*`, the exact `resource[/subresource]`, or `*\/subresource`. */
function resourceMatches(rule: PolicyRule, attributes: ResourceAttributes): boolean {
  const combined =
    attributes.subresource === undefined
      ? attributes.resource
      : `${attributes.resource}/${attributes.subresource}`;
  return (rule.resources ?? []).some(
    (r) =>
      r === '*' ||
      r === combined ||
      (attributes.subresource !== undefined && r === `*/${attributes.subresource}`),
  );
}

/** rbac.RuleAllows for a resource request. */
export function ruleAllows(rule: PolicyRule, attributes: ResourceAttributes): boolean {
  if (!has(rule.verbs, attributes.verb)) return false;
  if (!has(rule.apiGroups, attributes.apiGroup)) return false;
  if (!resourceMatches(rule, attributes)) return false;
  const names = rule.resourceNames ?? [];
  return names.length === 0 || names.includes(attributes.name ?? '');
}

/** rbac appliesToUser: a User, Group or ServiceAccount subject (SA namespace defaults to the binding's). */
function subjectApplies(subject: Subject, user: UserInfo, bindingNamespace: string): boolean {
  switch (subject.kind) {
    case 'User':
      return subject.name === user.name;
    case 'Group':
      return user.groups.includes(subject.name);
    case 'ServiceAccount': {
      const namespace = subject.namespace || bindingNamespace;
      return namespace !== '' && user.name === `system:serviceaccount:${namespace}:${subject.name}`;
    }
    default:
      return false;
  }
}

function rulesOf(
  objects: RbacObjects,
  ref: RoleRef | undefined,
  bindingNamespace: string,
): PolicyRule[] {
  if (ref?.kind === 'ClusterRole')
    return objects.clusterRoles.find((r) => r.metadata.name === ref.name)?.rules ?? [];
  if (ref?.kind === 'Role' && bindingNamespace !== '')
    return (
      objects.roles.find(
        (r) => r.metadata.name === ref.name && r.metadata.namespace === bindingNamespace,
      )?.rules ?? []
    );
  return [];
}

/**
 * Authorizes one resource request: the ClusterRoleBindings first (any namespace), then the
 * RoleBindings of the request's namespace (a binding to a ClusterRole grants its rules in that
 * namespace only), as the RBAC authorizer's VisitRulesFor does.
 */
export function authorize(
  user: UserInfo,
  attributes: ResourceAttributes,
  objects: RbacObjects,
): Decision {
  for (const binding of objects.clusterRoleBindings) {
    if (!(binding.subjects ?? []).some((s) => subjectApplies(s, user, ''))) continue;
    if (rulesOf(objects, binding.roleRef, '').some((rule) => ruleAllows(rule, attributes)))
      return {
        allowed: true,
        reason: `RBAC: allowed by ClusterRoleBinding "${binding.metadata.name}" of ClusterRole "${binding.roleRef?.name}" to User "${user.name}"`,
      };
  }
  const namespace = attributes.namespace ?? '';
  if (namespace !== '') {
    for (const binding of objects.roleBindings) {
      if (binding.metadata.namespace !== namespace) continue;
      if (!(binding.subjects ?? []).some((s) => subjectApplies(s, user, namespace))) continue;
      if (rulesOf(objects, binding.roleRef, namespace).some((rule) => ruleAllows(rule, attributes)))
        return {
          allowed: true,
          reason: `RBAC: allowed by RoleBinding "${binding.metadata.name}/${namespace}" of ${binding.roleRef?.kind} "${binding.roleRef?.name}" to User "${user.name}"`,
        };
    }
  }
  return { allowed: false, reason: '' };
}

/**
 * The 403 message kube-apiserver writes (responsewriters.forbiddenMessage inside
 * apierrors.NewForbidden): `deployments.apps "api" is forbidden: User "…" cannot patch resource
 * "deployments" in API group "apps" in the namespace "shop"`, `… at the cluster scope` without one.
 */
export function forbiddenMessage(user: UserInfo, attributes: ResourceAttributes): string {
  const resource =
    attributes.subresource === undefined
      ? attributes.resource
      : `${attributes.resource}/${attributes.subresource}`;
  const where =
    attributes.namespace !== undefined && attributes.namespace !== ''
      ? `in the namespace "${attributes.namespace}"`
      : 'at the cluster scope';
  const why = `User "${user.name}" cannot ${attributes.verb} resource "${resource}" in API group "${attributes.apiGroup}" ${where}`;
  const qualified =
    attributes.apiGroup === ''
      ? attributes.resource
      : `${attributes.resource}.${attributes.apiGroup}`;
  return attributes.name
    ? `${qualified} "${attributes.name}" is forbidden: ${why}`
    : `${qualified} is forbidden: ${why}`;
}

/** The Status `details` of a 403: name (when any), group (when not core), kind = the plural. */
export function forbiddenDetails(attributes: ResourceAttributes): Record<string, unknown> {
  return {
    ...(attributes.name ? { name: attributes.name } : {}),
    ...(attributes.apiGroup === '' ? {} : { group: attributes.apiGroup }),
    kind: attributes.resource,
  };
}
