import type { ResourceRegistry } from './resources/registry.js';
import { groupVersion, type ResourceType } from './resources/resource-type.js';

/**
 * A minimal OpenAPI v3 surface: the root index and, per group-version, the PATCH operations with
 * their `x-kubernetes-group-version-kind` and query parameters. kubectl 1.32 reads these to learn
 * that the server validates fields itself (`fieldValidation`), so `kubectl create -f` works with
 * its default `--validate=strict`. No schemas (kubectl explain will not work).
 */
function gvPath(gv: string): string {
  return gv.includes('/') ? `apis/${gv}` : `api/${gv}`;
}

function hash(text: string): string {
  let h = 0;
  for (const ch of text) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return h.toString(16).toUpperCase().padStart(8, '0');
}

export function openApiV3Root(registry: ResourceRegistry): Record<string, unknown> {
  const gvs = [...new Set(registry.all().map((t) => groupVersion(t)))].sort();
  return {
    paths: Object.fromEntries(
      gvs.map((gv) => {
        const types = registry.all().filter((t) => groupVersion(t) === gv);
        const version = hash(types.map((t) => `${t.plural}/${t.kind}`).join(','));
        return [gvPath(gv), { serverRelativeURL: `/openapi/v3/${gvPath(gv)}?hash=${version}` }];
      }),
    ),
  };
}

const queryParameters = ['dryRun', 'fieldManager', 'fieldValidation', 'force', 'pretty'].map(
  (name) => ({
    name,
    in: 'query',
    schema: { type: name === 'force' ? 'boolean' : 'string', uniqueItems: true },
  }),
);

function operations(type: ResourceType): [string, Record<string, unknown>][] {
  const base = `/${gvPath(groupVersion(type))}${type.namespaced ? '/namespaces/{namespace}' : ''}/${type.plural}`;
  const gvk = { group: type.group, version: type.version, kind: type.kind };
  const op = (action: string): Record<string, unknown> => ({
    operationId: `${action}${type.kind}`,
    'x-kubernetes-action': action,
    'x-kubernetes-group-version-kind': gvk,
    parameters: queryParameters,
    responses: { '200': { description: 'OK' } },
  });
  return [
    [base, { post: op('post') }],
    [
      `${base}/{name}`,
      { get: op('get'), put: op('put'), patch: op('patch'), delete: op('delete') },
    ],
  ];
}

/** The OpenAPI v3 document of one group-version (`apis/apps/v1`), or undefined when not served. */
export function openApiV3GroupVersion(
  registry: ResourceRegistry,
  path: string,
): Record<string, unknown> | undefined {
  const types = registry.all().filter((t) => gvPath(groupVersion(t)) === path);
  if (types.length === 0) return undefined;
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: 'v1.32.0-cvm-emulator' },
    paths: Object.fromEntries(types.flatMap(operations)),
    components: { schemas: {} },
  };
}
