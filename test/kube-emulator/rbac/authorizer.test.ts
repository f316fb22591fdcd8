import { describe, expect, it } from 'vitest';
import { parseRoute } from '../routes.js';
import {
  authorize,
  forbiddenDetails,
  forbiddenMessage,
  serviceAccountUser,
  type PolicyRule,
  type RbacObjects,
  type ResourceAttributes,
} from './authorizer.js';
import { requestAttributes } from './request-attributes.js';

const cvm = serviceAccountUser('cvm-system', 'cvm');
const other = serviceAccountUser('shop', 'default');

function clusterGrant(rules: PolicyRule[], subjectNamespace = 'cvm-system'): RbacObjects {
  return {
    roles: [],
    clusterRoles: [{ metadata: { name: 'cvm' }, rules }],
    roleBindings: [],
    clusterRoleBindings: [
      {
        metadata: { name: 'cvm' },
        roleRef: { kind: 'ClusterRole', name: 'cvm' },
        subjects: [{ kind: 'ServiceAccount', name: 'cvm', namespace: subjectNamespace }],
      },
    ],
  };
}

const patchDeployment: ResourceAttributes = {
  verb: 'patch',
  apiGroup: 'apps',
  apiVersion: 'v1',
  resource: 'deployments',
  namespace: 'shop',
  name: 'api',
};
const patchCvStatus: ResourceAttributes = {
  verb: 'patch',
  apiGroup: 'cvm.dev',
  apiVersion: 'v1',
  resource: 'containerversions',
  subresource: 'status',
  namespace: 'shop',
  name: 'api',
};
const getLease: ResourceAttributes = {
  verb: 'get',
  apiGroup: 'coordination.k8s.io',
  apiVersion: 'v1',
  resource: 'leases',
  namespace: 'cvm-system',
  name: 'cvm-reconciler',
};

describe('RBAC rules (ClusterRoleBinding of a ClusterRole)', () => {
  const cases: [string, PolicyRule[], ResourceAttributes, boolean][] = [
    [
      'exact verb, group and resource',
      [{ verbs: ['patch'], apiGroups: ['apps'], resources: ['deployments'] }],
      patchDeployment,
      true,
    ],
    [
      'another verb',
      [{ verbs: ['get', 'list'], apiGroups: ['apps'], resources: ['deployments'] }],
      patchDeployment,
      false,
    ],
    [
      'another group',
      [{ verbs: ['patch'], apiGroups: [''], resources: ['deployments'] }],
      patchDeployment,
      false,
    ],
    [
      'no apiGroups at all',
      [{ verbs: ['patch'], resources: ['deployments'] }],
      patchDeployment,
      false,
    ],
    [
      'wildcards everywhere',
      [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }],
      patchCvStatus,
      true,
    ],
    [
      'the resource does not grant its subresource',
      [{ verbs: ['patch'], apiGroups: ['cvm.dev'], resources: ['containerversions'] }],
      patchCvStatus,
      false,
    ],
    [
      'resource/subresource',
      [{ verbs: ['patch'], apiGroups: ['cvm.dev'], resources: ['containerversions/status'] }],
      patchCvStatus,
      true,
    ],
    [
      '*/subresource',
      [{ verbs: ['patch'], apiGroups: ['cvm.dev'], resources: ['*/status'] }],
      patchCvStatus,
      true,
    ],
    [
      '*/another subresource',
      [{ verbs: ['patch'], apiGroups: ['cvm.dev'], resources: ['*/scale'] }],
      patchCvStatus,
      false,
    ],
    [
      'the subresource does not grant the resource',
      [{ verbs: ['patch'], apiGroups: ['apps'], resources: ['deployments/scale'] }],
      patchDeployment,
      false,
    ],
    [
      'resourceNames naming it',
      [
        {
          verbs: ['get'],
          apiGroups: ['coordination.k8s.io'],
          resources: ['leases'],
          resourceNames: ['cvm-reconciler'],
        },
      ],
      getLease,
      true,
    ],
    [
      'resourceNames naming another',
      [
        {
          verbs: ['get'],
          apiGroups: ['coordination.k8s.io'],
          resources: ['leases'],
          resourceNames: ['someone-else'],
        },
      ],
      getLease,
      false,
    ],
    [
      'resourceNames never grant a create (no name)',
      [
        {
          verbs: ['create'],
          apiGroups: ['coordination.k8s.io'],
          resources: ['leases'],
          resourceNames: ['cvm-reconciler'],
        },
      ],
      { ...getLease, verb: 'create', name: undefined },
      false,
    ],
    [
      'a later rule grants it',
      [
        { verbs: ['get'], apiGroups: ['apps'], resources: ['deployments'] },
        { verbs: ['patch'], apiGroups: ['apps'], resources: ['deployments'] },
      ],
      patchDeployment,
      true,
    ],
    [
      'a cluster-wide list',
      [{ verbs: ['list'], apiGroups: [''], resources: ['nodes'] }],
      { verb: 'list', apiGroup: '', apiVersion: 'v1', resource: 'nodes' },
      true,
    ],
  ];
  it.each(cases)('%s', (_name, rules, attributes, allowed) => {
    expect(authorize(cvm, attributes, clusterGrant(rules)).allowed).toBe(allowed);
  });

  it('binds only its subjects', () => {
    const rules = [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }];
    expect(authorize(other, patchDeployment, clusterGrant(rules)).allowed).toBe(false);
    expect(authorize(cvm, patchDeployment, clusterGrant(rules, 'shop')).allowed).toBe(false);
    expect(authorize(cvm, patchDeployment, { ...clusterGrant([]) }).allowed).toBe(false);
  });

  it('grants through Group subjects (system:serviceaccounts:<ns>)', () => {
    const objects = clusterGrant([{ verbs: ['patch'], apiGroups: ['apps'], resources: ['*'] }]);
    objects.clusterRoleBindings[0]!.subjects = [
      { kind: 'Group', name: 'system:serviceaccounts:cvm-system' },
    ];
    expect(authorize(cvm, patchDeployment, objects).allowed).toBe(true);
    expect(authorize(other, patchDeployment, objects).allowed).toBe(false);
  });
});

describe('RBAC RoleBindings', () => {
  const leaseRules: PolicyRule[] = [
    {
      verbs: ['get', 'create', 'update'],
      apiGroups: ['coordination.k8s.io'],
      resources: ['leases'],
    },
  ];
  const objects: RbacObjects = {
    roles: [
      { metadata: { name: 'cvm-leader', namespace: 'cvm-system' }, rules: leaseRules },
      // Same name in another namespace: a RoleBinding only sees its own namespace's Role.
      {
        metadata: { name: 'cvm-leader', namespace: 'shop' },
        rules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }],
      },
    ],
    clusterRoles: [
      {
        metadata: { name: 'deployer' },
        rules: [{ verbs: ['patch'], apiGroups: ['apps'], resources: ['deployments'] }],
      },
    ],
    roleBindings: [
      {
        metadata: { name: 'cvm-leader', namespace: 'cvm-system' },
        roleRef: { kind: 'Role', name: 'cvm-leader' },
        // No namespace: a RoleBinding's ServiceAccount subject defaults to the binding's.
        subjects: [{ kind: 'ServiceAccount', name: 'cvm' }],
      },
      {
        metadata: { name: 'deployer', namespace: 'shop' },
        roleRef: { kind: 'ClusterRole', name: 'deployer' },
        subjects: [{ kind: 'ServiceAccount', name: 'cvm', namespace: 'cvm-system' }],
      },
    ],
    clusterRoleBindings: [],
  };
  it.each([
    ['a Role in its namespace', getLease, true],
    ['the same Role elsewhere', { ...getLease, namespace: 'shop' }, false],
    ['a verb the Role lacks', { ...getLease, verb: 'delete' }, false],
    ['a ClusterRole bound in one namespace', patchDeployment, true],
    ['that ClusterRole in another namespace', { ...patchDeployment, namespace: 'web' }, false],
    [
      'that ClusterRole across all namespaces',
      { ...patchDeployment, verb: 'patch', namespace: undefined },
      false,
    ],
  ] as [string, ResourceAttributes, boolean][])('%s', (_name, attributes, allowed) => {
    expect(authorize(cvm, attributes, objects).allowed).toBe(allowed);
  });
});

describe('request attributes (RequestInfoFactory)', () => {
  const attributesOf = (method: string, path: string, query = '') =>
    requestAttributes(
      method,
      parseRoute(path, (s) => s === 'status' || s === 'finalize'),
      new URLSearchParams(query),
    );
  it.each([
    ['GET', '/apis/apps/v1/namespaces/shop/deployments/api', '', 'get', 'shop', 'api'],
    ['GET', '/apis/apps/v1/namespaces/shop/deployments', '', 'list', 'shop', undefined],
    ['GET', '/apis/apps/v1/deployments', 'watch=true', 'watch', undefined, undefined],
    [
      'GET',
      '/apis/apps/v1/deployments',
      'watch=1&fieldSelector=metadata.name%3Dapi',
      'watch',
      undefined,
      'api',
    ],
    ['POST', '/apis/batch/v1/namespaces/shop/jobs', '', 'create', 'shop', undefined],
    ['PUT', '/api/v1/namespaces/shop/configmaps/h', '', 'update', 'shop', 'h'],
    ['PATCH', '/apis/apps/v1/namespaces/shop/deployments/api', '', 'patch', 'shop', 'api'],
    ['DELETE', '/apis/batch/v1/namespaces/shop/jobs/v', '', 'delete', 'shop', 'v'],
    ['DELETE', '/apis/batch/v1/namespaces/shop/jobs', '', 'deletecollection', 'shop', undefined],
    ['GET', '/api/v1/namespaces/shop', '', 'get', 'shop', 'shop'],
    ['GET', '/api/v1/nodes', '', 'list', undefined, undefined],
  ])('%s %s?%s is %s', (method, path, query, verb, namespace, name) => {
    const attributes = attributesOf(method, path, query);
    expect(attributes?.verb).toBe(verb);
    expect(attributes?.namespace).toBe(namespace);
    expect(attributes?.name).toBe(name);
  });
  it('splits a subresource and leaves discovery alone', () => {
    expect(
      attributesOf('PATCH', '/apis/cvm.dev/v1/namespaces/shop/containerversions/api/status'),
    ).toEqual({
      verb: 'patch',
      apiGroup: 'cvm.dev',
      apiVersion: 'v1',
      resource: 'containerversions',
      subresource: 'status',
      namespace: 'shop',
      name: 'api',
    });
    expect(attributesOf('GET', '/apis/apps/v1')).toBeUndefined();
  });
});

describe('the 403 message (responsewriters.forbiddenMessage + apierrors.NewForbidden)', () => {
  it.each([
    [
      patchDeployment,
      'deployments.apps "api" is forbidden: User "system:serviceaccount:cvm-system:cvm" cannot patch resource "deployments" in API group "apps" in the namespace "shop"',
      { name: 'api', group: 'apps', kind: 'deployments' },
    ],
    [
      { verb: 'list', apiGroup: '', apiVersion: 'v1', resource: 'pods', namespace: 'shop' },
      'pods is forbidden: User "system:serviceaccount:cvm-system:cvm" cannot list resource "pods" in API group "" in the namespace "shop"',
      { kind: 'pods' },
    ],
    [
      { verb: 'watch', apiGroup: 'apps', apiVersion: 'v1', resource: 'deployments' },
      'deployments.apps is forbidden: User "system:serviceaccount:cvm-system:cvm" cannot watch resource "deployments" in API group "apps" at the cluster scope',
      { group: 'apps', kind: 'deployments' },
    ],
    [
      patchCvStatus,
      'containerversions.cvm.dev "api" is forbidden: User "system:serviceaccount:cvm-system:cvm" cannot patch resource "containerversions/status" in API group "cvm.dev" in the namespace "shop"',
      { name: 'api', group: 'cvm.dev', kind: 'containerversions' },
    ],
  ] as [ResourceAttributes, string, Record<string, string>][])(
    '%o',
    (attributes, message, details) => {
      expect(forbiddenMessage(cvm, attributes)).toBe(message);
      expect(forbiddenDetails(attributes)).toEqual(details);
    },
  );
});
