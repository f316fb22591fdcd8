import type { Route } from '../routes.js';
import type { ResourceAttributes } from './authorizer.js';

const truthy = (value: string | null) => value === '1' || value === 'true';

/**
 * A resource request's authorizer attributes, as kube-apiserver's RequestInfoFactory derives them:
 * GET is get (with a name), list, or watch (`?watch=1|true`); POST create; PUT update; PATCH patch;
 * DELETE delete (with a name) or deletecollection. A list or watch whose field selector is
 * `metadata.name=X` carries the name X (so resourceNames rules can grant it). For the `namespaces`
 * resource, the namespace is the named one. Undefined for anything but a resource route.
 */
export function requestAttributes(
  method: string,
  route: Route,
  query: URLSearchParams,
): ResourceAttributes | undefined {
  if (route.kind !== 'resource') return undefined;
  let verb: string;
  switch (method) {
    case 'GET':
    case 'HEAD':
      verb = route.name !== undefined ? 'get' : truthy(query.get('watch')) ? 'watch' : 'list';
      break;
    case 'POST':
      verb = 'create';
      break;
    case 'PUT':
      verb = 'update';
      break;
    case 'PATCH':
      verb = 'patch';
      break;
    case 'DELETE':
      verb = route.name !== undefined ? 'delete' : 'deletecollection';
      break;
    default:
      verb = method.toLowerCase();
  }
  let name = route.name;
  if (name === undefined && (verb === 'list' || verb === 'watch')) {
    const byName = /^metadata\.name==?([^,]+)$/.exec(query.get('fieldSelector') ?? '');
    if (byName) name = byName[1];
  }
  const namespace =
    route.group === '' && route.plural === 'namespaces' && route.name !== undefined
      ? route.name
      : route.namespace;
  return {
    verb,
    apiGroup: route.group,
    apiVersion: route.version,
    resource: route.plural,
    ...(route.subresource !== undefined ? { subresource: route.subresource } : {}),
    ...(namespace !== undefined ? { namespace } : {}),
    ...(name !== undefined ? { name } : {}),
  };
}
