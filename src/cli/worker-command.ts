import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import type { Config } from '../config/config.js';
import { createOpsApp } from '../http/ops-app.js';
import { createKubeAdapters } from '../kube/kube-adapters.js';
import { HttpServer } from '../lifecycle/http-server.js';
import { Lifecycle } from '../lifecycle/lifecycle.js';
import { handleSignals } from '../lifecycle/signals.js';
import { createLogger } from '../observability/logger.js';
import { Metrics } from '../observability/metrics.js';
import {
  closeConnection,
  createProducerConnection,
  createWorkerConnection,
} from '../queue/connections.js';
import { dockerConfigLookup } from '../registry/docker-config.js';
import { RegistryClients } from '../registry/registry-clients.js';
import { createWorkerRole } from '../workers/worker-role.js';
import { loadConfigOrExit } from './load-config.js';

/** Registry clients from the configuration, counting requests into the metrics. */
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

/** Composition root of `cvm worker`: routes push events and runs rollouts until signalled. */
export async function runWorker(config: Config): Promise<void> {
  const logger = createLogger({ level: config.logLevel, name: 'cvm' });
  const metrics = new Metrics();
  const connection = {
    url: config.redisUrl,
    connectTimeoutMs: config.redisConnectTimeoutMs,
    logger,
  };
  const producer = createProducerConnection({ ...connection, name: 'cvm-worker-producer' });
  const workerConnection = createWorkerConnection({ ...connection, name: 'cvm-worker' });
  const registries = registryClientsFor(config, metrics);
  const kube = createKubeAdapters({
    ...(config.kubeconfig ? { kubeconfigPath: config.kubeconfig } : {}),
    logger,
  });
  const role = createWorkerRole({
    config,
    logger,
    metrics,
    kube,
    registries,
    workerConnection,
    producerConnection: producer,
    ...(config.cosignPublicKeyFile
      ? { cosignPublicKey: readFileSync(config.cosignPublicKeyFile, 'utf8') }
      : {}),
  });
  const lifecycle = new Lifecycle({ logger, stopTimeoutMs: config.shutdownTimeoutMs });
  lifecycle.add({
    name: 'connections',
    start: () => Promise.resolve(),
    stop: async () => {
      registries.stop();
      await closeConnection(producer);
      await closeConnection(workerConnection);
    },
  });
  lifecycle.add(
    new HttpServer({
      name: 'ops-server',
      port: config.opsPort,
      host: config.listenHost,
      handler: createOpsApp({
        metrics,
        readiness: [{ name: 'redis', check: () => workerConnection.status === 'ready' }],
        opsToken: config.opsToken,
        queues: [role.rollouts.queue],
      }),
    }),
  );
  for (const component of role.components) lifecycle.add(component);
  handleSignals(lifecycle, { logger, exit: (code) => process.exit(code) });
  await lifecycle.start();
  logger.info({ opsPort: config.opsPort }, 'worker started');
}

export function workerCommand(env: NodeJS.ProcessEnv): Command {
  return new Command('worker')
    .description('route push events to ContainerVersions and run their rollouts')
    .action(async () => runWorker(loadConfigOrExit(env)));
}
