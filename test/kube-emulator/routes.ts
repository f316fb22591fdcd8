/** Where a request path points in the Kubernetes REST API. Pure parsing; no registry lookups. */
export type Route =
  | { kind: 'discovery'; path: string }
  | {
      kind: 'resource';
      group: string;
      version: string;
      /** The namespace in the path (`/namespaces/{ns}/…`); undefined for cluster scope or all namespaces. */
      namespace?: string;
      plural: string;
      name?: string;
      subresource?: string;
    }
  | { kind: 'unknown' };

const discoveryPaths = /^\/(version|api|api\/v1|apis|apis\/[^/]+\/[^/]+|apis\/[^/]+)\/?$/;

/**
 * Parses `/api/v1/...` and `/apis/{group}/{version}/...`. `namespaces/{x}/{y}` is a namespaced
 * resource `y` unless `isSubresourceOfNamespace(y)` says it is a subresource of namespace `x`.
 */
export function parseRoute(
  pathname: string,
  isSubresourceOfNamespace: (segment: string) => boolean,
): Route {
  const path = pathname.replace(/\/+$/, '') || '/';
  if (discoveryPaths.test(path)) return { kind: 'discovery', path };
  const segments = path.split('/').slice(1).map(decodeURIComponent);
  let group: string;
  let version: string;
  let rest: string[];
  if (segments[0] === 'api' && segments[1] !== undefined) {
    group = '';
    version = segments[1];
    rest = segments.slice(2);
  } else if (segments[0] === 'apis' && segments[1] !== undefined && segments[2] !== undefined) {
    group = segments[1];
    version = segments[2];
    rest = segments.slice(3);
  } else {
    return { kind: 'unknown' };
  }
  let namespace: string | undefined;
  if (
    rest[0] === 'namespaces' &&
    rest.length >= 3 &&
    !(rest.length === 3 && isSubresourceOfNamespace(rest[2] ?? ''))
  ) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [plural, name, subresource, ...extra] = rest;
  if (plural === undefined || extra.length > 0) return { kind: 'unknown' };
  return {
    kind: 'resource',
    group,
    version,
    ...(namespace !== undefined ? { namespace } : {}),
    plural,
    ...(name !== undefined ? { name } : {}),
    ...(subresource !== undefined ? { subresource } : {}),
  };
}
