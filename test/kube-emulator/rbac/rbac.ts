import { randomBytes } from 'node:crypto';
import { StatusError } from '../contract.js';
import type { MemoryStore } from '../store.js';
import {
  authorize,
  forbiddenDetails,
  forbiddenMessage,
  serviceAccountUser,
  type RbacObjects,
  type ResourceAttributes,
  type UserInfo,
} from './authorizer.js';

const GROUP = 'rbac.authorization.k8s.io';

/** One request a ServiceAccount was allowed to make: what RBAC evaluated. */
export interface AccessRecord {
  verb: string;
  apiGroup: string;
  /** `deployments`, or `containerversions/status` for a subresource. */
  resource: string;
  namespace?: string;
  name?: string;
}

interface TokenOwner {
  namespace: string;
  name: string;
}

/**
 * Authentication and RBAC authorization of the emulator. Tokens minted by
 * {@link serviceAccountToken} are ServiceAccount tokens and are authorized by the RBAC objects of
 * the store on every request; any other bearer token (the kubeconfig's, or none) is the cluster
 * admin and may do anything, so tests that never mint a token see no RBAC at all.
 */
export class Rbac {
  private readonly tokens = new Map<string, TokenOwner>();
  private readonly used = new Map<string, AccessRecord[]>();

  constructor(private readonly store: MemoryStore) {}

  /**
   * A bearer token that authenticates as `system:serviceaccount:<namespace>:<name>` (groups
   * `system:serviceaccounts`, `system:serviceaccounts:<namespace>`, `system:authenticated`) for as
   * long as that ServiceAccount exists; requests with it answer 401 once it is gone.
   */
  serviceAccountToken(namespace: string, name: string): string {
    const token = `sa-${randomBytes(24).toString('base64url')}`;
    this.tokens.set(token, { namespace, name });
    return token;
  }

  /** Every request the ServiceAccount was allowed to make, in order. */
  usage(namespace: string, name: string): AccessRecord[] {
    return [...(this.used.get(serviceAccountUser(namespace, name).name) ?? [])];
  }

  /** Forgets the recorded usage of every ServiceAccount. */
  clearUsage(): void {
    this.used.clear();
  }

  /**
   * Checks one request: resolves for the admin and for an allowed ServiceAccount request (recorded
   * in {@link usage}); throws a 401 Unauthorized StatusError for a token whose ServiceAccount is
   * gone and a 403 Forbidden one, worded as kube-apiserver's, for a request RBAC does not grant.
   * The admin may impersonate a ServiceAccount (`Impersonate-User:
   * system:serviceaccount:<ns>:<name>`, what `kubectl --as` sends; kubectl sends no bearer token
   * to a plain-HTTP server, client-node does), and is then authorized as it.
   * Non-resource requests (discovery, `/version`, OpenAPI) are open to every authenticated user,
   * as the default `system:discovery` and `system:public-info-viewer` bindings make them.
   */
  check(
    headers: { authorization?: string; impersonateUser?: string },
    attributes: ResourceAttributes | undefined,
  ): void {
    const token = /^Bearer\s+(.+)$/i.exec(headers.authorization ?? '')?.[1]?.trim();
    const owner = token === undefined ? undefined : this.tokens.get(token);
    let user: UserInfo;
    if (owner !== undefined) {
      if (this.store.get('serviceaccounts', owner.namespace, owner.name) === undefined)
        throw new StatusError(401, 'Unauthorized', 'Unauthorized');
      user = serviceAccountUser(owner.namespace, owner.name);
    } else {
      const impersonated = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(
        headers.impersonateUser ?? '',
      );
      if (!impersonated) return;
      user = serviceAccountUser(impersonated[1] ?? '', impersonated[2] ?? '');
    }
    if (attributes === undefined) return;
    const decision = authorize(user, attributes, this.objects());
    if (!decision.allowed)
      throw new StatusError(
        403,
        'Forbidden',
        forbiddenMessage(user, attributes),
        forbiddenDetails(attributes),
      );
    this.record(user, attributes);
  }

  private record(user: UserInfo, attributes: ResourceAttributes): void {
    const list = this.used.get(user.name) ?? [];
    list.push({
      verb: attributes.verb,
      apiGroup: attributes.apiGroup,
      resource:
        attributes.subresource === undefined
          ? attributes.resource
          : `${attributes.resource}/${attributes.subresource}`,
      ...(attributes.namespace ? { namespace: attributes.namespace } : {}),
      ...(attributes.name ? { name: attributes.name } : {}),
    });
    this.used.set(user.name, list);
  }

  private objects(): RbacObjects {
    const list = (plural: string) => this.store.list(`${plural}.${GROUP}`);
    return {
      roles: list('roles'),
      clusterRoles: list('clusterroles'),
      roleBindings: list('rolebindings'),
      clusterRoleBindings: list('clusterrolebindings'),
    };
  }
}
