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

/** One webhook endpoint: a row of the table, not a branch of a switch (STYLE.md). */
export interface WebhookSource {
  source: PushSource;
  /** Whether the secret comes in the path: `/webhooks/<source>/<token>`. */
  tokenInPath: boolean;
  /** Configured secrets; an empty list disables the endpoint (404). */
  secrets: readonly string[];
  authenticate: Authenticator;
  /** Media types accepted (after parameters are stripped); anything else gets 415. */
  mediaTypes: readonly string[];
  normalize: Normalizer;
}

const JSON_TYPES = ['application/json'];

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
    tokenInPath = false,
  ): WebhookSource => ({
    source,
    secrets,
    authenticate,
    mediaTypes,
    tokenInPath,
    normalize: NORMALIZERS[source],
  });
  return [
    row('ecr', config.ecrApiKeys, headerSecretAuth(config.ecrApiKeyHeader, config.ecrApiKeys)),
    row(
      'dockerhub',
      config.dockerhubTokens,
      pathTokenAuth(config.dockerhubTokens),
      JSON_TYPES,
      true,
    ),
    row('quay', config.quayTokens, pathTokenAuth(config.quayTokens), JSON_TYPES, true),
    row('ghcr', config.ghcrSecrets, hmacSha256Auth('x-hub-signature-256', config.ghcrSecrets), [
      'application/json',
      'application/x-www-form-urlencoded',
    ]),
    row('harbor', config.harborTokens, authorizationAuth(config.harborTokens), [
      'application/json',
      'application/cloudevents+json',
    ]),
    row('acr', config.acrTokens, authorizationAuth(config.acrTokens)),
    row('gar', config.garTokens, pathTokenAuth(config.garTokens), JSON_TYPES, true),
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
