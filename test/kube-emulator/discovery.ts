import type { ResourceRegistry } from './resources/registry.js';
import { groupVersion, type ResourceType } from './resources/resource-type.js';

const allVerbs = [
  'create',
  'delete',
  'deletecollection',
  'get',
  'list',
  'patch',
  'update',
  'watch',
];
const namespaceVerbs = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'];
const subresourceVerbs = ['get', 'patch', 'update'];

/** `/version`, shaped like kube-apiserver's. */
export function versionDocument(): Record<string, unknown> {
  return {
    major: '1',
    minor: '32',
    gitVersion: 'v1.32.0-cvm-emulator',
    gitCommit: '0000000000000000000000000000000000000000',
    gitTreeState: 'clean',
    buildDate: '2026-01-01T00:00:00Z',
    goVersion: 'go1.23.0',
    compiler: 'gc',
    platform: 'linux/amd64',
  };
}

function resourceEntries(type: ResourceType): Record<string, unknown>[] {
  const main: Record<string, unknown> = {
    name: type.plural,
    singularName: type.singularName,
    namespaced: type.namespaced,
    kind: type.kind,
    verbs: type.plural === 'namespaces' ? namespaceVerbs : allVerbs,
    ...(type.shortNames.length > 0 ? { shortNames: type.shortNames } : {}),
    ...(type.categories.length > 0 ? { categories: type.categories } : {}),
    ...(type.storageVersionHash ? { storageVersionHash: type.storageVersionHash } : {}),
  };
  const entries = [main];
  if (type.scale) {
    entries.push({
      name: `${type.plural}/scale`,
      singularName: '',
      namespaced: type.namespaced,
      group: 'autoscaling',
      version: 'v1',
      kind: 'Scale',
      verbs: subresourceVerbs,
    });
  }
  if (type.status) {
    entries.push({
      name: `${type.plural}/status`,
      singularName: '',
      namespaced: type.namespaced,
      kind: type.kind,
      verbs: subresourceVerbs,
    });
  }
  return entries;
}

function groupsOf(registry: ResourceRegistry): Map<string, ResourceType[]> {
  const groups = new Map<string, ResourceType[]>();
  for (const type of registry.all()) {
    if (type.group === '') continue;
    const list = groups.get(type.group) ?? [];
    list.push(type);
    groups.set(type.group, list);
  }
  return groups;
}

function groupEntry(name: string, versions: string[]): Record<string, unknown> {
  const [preferred = 'v1'] = versions;
  return {
    name,
    versions: versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v })),
    preferredVersion: { groupVersion: `${name}/${preferred}`, version: preferred },
  };
}

/**
 * The legacy (unaggregated) discovery document for a path, or undefined when the path is not a
 * discovery path the registry serves. Shapes follow reference/kube-captures/discovery.json.
 */
export function discoveryDocument(
  registry: ResourceRegistry,
  path: string,
  serverAddress: string,
): Record<string, unknown> | undefined {
  if (path === '/version') return versionDocument();
  if (path === '/api') {
    return {
      kind: 'APIVersions',
      versions: ['v1'],
      serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
    };
  }
  if (path === '/api/v1') {
    return {
      kind: 'APIResourceList',
      groupVersion: 'v1',
      resources: registry
        .all()
        .filter((t) => t.group === '')
        .sort((a, b) => a.plural.localeCompare(b.plural))
        .flatMap(resourceEntries),
    };
  }
  const groups = groupsOf(registry);
  if (path === '/apis') {
    return {
      kind: 'APIGroupList',
      apiVersion: 'v1',
      groups: [...groups.entries()].map(([name, types]) =>
        groupEntry(name, [...new Set(types.map((t) => t.version))]),
      ),
    };
  }
  const [, , group = '', version] = path.split('/');
  const types = groups.get(group);
  if (!types) return undefined;
  if (version === undefined) {
    return {
      kind: 'APIGroup',
      apiVersion: 'v1',
      ...groupEntry(group, [...new Set(types.map((t) => t.version))]),
    };
  }
  const served = types.filter((t) => t.version === version);
  if (served.length === 0) return undefined;
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: groupVersion({ group, version }),
    resources: served.sort((a, b) => a.plural.localeCompare(b.plural)).flatMap(resourceEntries),
  };
}
