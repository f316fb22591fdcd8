import { readFileSync } from 'node:fs';
import type { Config } from '../config/config.js';
import type { Metrics } from '../observability/metrics.js';
import { dockerConfigLookup } from '../registry/docker-config.js';
import { RegistryClients } from '../registry/registry-clients.js';

/**
 * Registry clients from the configuration, counting requests into the metrics. A module of its
 * own so that the composition root loads the registry clients (and the AWS SDK) only for the roles
 * that use them (worker, reconciler).
 */
export function registryClientsFor(config: Config, metrics: Metrics): RegistryClients {
  const credentials = config.registryAuthFile
    ? dockerConfigLookup([readFileSync(config.registryAuthFile, 'utf8')])
    : () => undefined;
  const onRequest = (registry: string, method: string, outcome: string) =>
    metrics.registryRequests.inc({ registry, method, outcome });
  return new RegistryClients({
    oci: { credentials, onRequest },
    ecr: { ...(config.ecrEndpoint ? { endpoint: config.ecrEndpoint } : {}), oci: { onRequest } },
  });
}
