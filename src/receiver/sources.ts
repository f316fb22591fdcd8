import type { Config } from '../config/config.js';
import type { Normalizer, PushSource } from '../events/push-event.js';
import { NORMALIZERS } from '../events/sources/index.js';
import {
  authorizationAuth,
  headerSecretAuth,
  hmacSha256Auth,
  pathTokenAuth,
  type Authenticator,
} from './authenticators.js';
import type { PubSubOidcOptions } from './pubsub-oidc-auth.js';

/** One webhook endpoint: a row of the table, not a branch of a switch (STYLE.md). */
export interface WebhookSource {
  source: PushSource;
  /**
   * Where the route takes a secret: `token` in the path only (`/webhooks/<source>/<token>`),
   * `none` (`/webhooks/<source>`, the secret is in a header), or `either` (Artifact Registry
   * with both path tokens and OIDC configured). The other form answers 404.
   */
  path: 'token' | 'none' | 'either';
  /** Whether some secret is configured; a disabled endpoint answers 404. */
  enabled: boolean;
  authenticate: Authenticator;
  /** Media types accepted (after parameters are stripped); anything else gets 415. */
  mediaTypes: readonly string[];
  normalize: Normalizer;
}

const JSON_TYPES = ['application/json'];

/**
 * The Pub/Sub OIDC check, its module (and jose) loaded with the first request it judges: a receiver
 * without `CVM_GAR_OIDC_AUDIENCE` never loads them.
 */
function lazyOidcAuth(options: PubSubOidcOptions): Authenticator {
  let loaded: Promise<Authenticator> | undefined;
  return async (request) => {
    loaded ??= import('./pubsub-oidc-auth.js').then((m) => m.pubsubOidcAuth(options));
    return (await loaded)(request);
  };
}

/**
 * Artifact Registry / GCR (a Pub/Sub push subscription): the OIDC token Pub/Sub attaches, verified
 * when `CVM_GAR_OIDC_AUDIENCE` is set, on `/webhooks/gar`; path tokens (`CVM_GAR_TOKENS`) on
 * `/webhooks/gar/<token>`. Either, both or neither may be configured.
 */
function garRow(config: Config): WebhookSource {
  const tokens = pathTokenAuth(config.garTokens);
  const oidc =
    config.garOidcAudience === undefined
      ? undefined
      : lazyOidcAuth({
          audience: config.garOidcAudience,
          emails: config.garOidcEmails,
          issuers: config.garOidcIssuer,
          ...(config.garOidcJwksUrl ? { jwksUrl: config.garOidcJwksUrl } : {}),
        });
  const withToken = config.garTokens.length > 0;
  return {
    source: 'gar',
    enabled: withToken || oidc !== undefined,
    path: oidc === undefined ? 'token' : withToken ? 'either' : 'none',
    authenticate: (request) =>
      request.pathToken !== undefined ? tokens(request) : (oidc?.(request) ?? false),
    mediaTypes: JSON_TYPES,
    normalize: NORMALIZERS.gar,
  };
}

/**
 * The webhook endpoints of DESIGN §3, built from the configuration. The ECR row is the EventBridge
 * API destination path; the SQS path shares its normalizer.
 */
export function webhookSources(config: Config): WebhookSource[] {
  const row = (
    source: PushSource,
    secrets: readonly string[],
    authenticate: Authenticator,
    mediaTypes: readonly string[] = JSON_TYPES,
    path: WebhookSource['path'] = 'none',
  ): WebhookSource => ({
    source,
    enabled: secrets.length > 0,
    authenticate,
    mediaTypes,
    path,
    normalize: NORMALIZERS[source],
  });
  return [
    row('ecr', config.ecrApiKeys, headerSecretAuth(config.ecrApiKeyHeader, config.ecrApiKeys)),
    row(
      'dockerhub',
      config.dockerhubTokens,
      pathTokenAuth(config.dockerhubTokens),
      JSON_TYPES,
      'token',
    ),
    row('quay', config.quayTokens, pathTokenAuth(config.quayTokens), JSON_TYPES, 'token'),
    row('ghcr', config.ghcrSecrets, hmacSha256Auth('x-hub-signature-256', config.ghcrSecrets), [
      'application/json',
      'application/x-www-form-urlencoded',
    ]),
    row('harbor', config.harborTokens, authorizationAuth(config.harborTokens), [
      'application/json',
      'application/cloudevents+json',
    ]),
    row('acr', config.acrTokens, authorizationAuth(config.acrTokens)),
    garRow(config),
    row('distribution', config.distributionTokens, authorizationAuth(config.distributionTokens), [
      'application/vnd.docker.distribution.events.v2+json',
      'application/vnd.docker.distribution.events.v1+json',
      'application/json',
    ]),
    row(
      'generic',
      config.genericSecrets,
      hmacSha256Auth('x-cvm-signature-256', config.genericSecrets),
    ),
  ];
}
