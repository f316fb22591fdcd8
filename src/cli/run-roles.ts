import { readFileSync } from 'node:fs';
import type { Config } from '../config/config.js';
import { createOpsApp } from '../http/ops-app.js';
import { ChangeStream } from '../http/stream-router.js';
import { HttpServer } from '../lifecycle/http-server.js';
import { Lifecycle } from '../lifecycle/lifecycle.js';
import type { Runnable } from '../lifecycle/runnable.js';
import { handleSignals } from '../lifecycle/signals.js';
import { createLogger, type Logger } from '../observability/logger.js';
import { Metrics } from '../observability/metrics.js';
import {
  closeConnection,
  type ConnectionOptions,
  createProducerConnection,
  createWorkerConnection,
} from '../queue/connections.js';
import { NotificationQueue } from '../queue/notification-queue.js';
import { PushEventQueue } from '../queue/push-event-queue.js';
import { RedisPollState } from '../queue/poll-state.js';
import { QueueAdmin } from '../queue/queue-admin.js';
import { RolloutQueue } from '../queue/rollout-queue.js';

export interface Roles {
  receiver: boolean;
  worker: boolean;
  reconciler: boolean;
}

/** Where and how every connection of the process reaches Redis, from the configuration. */
export function redisTargetFor(
  config: Config,
  readFile: (path: string) => string = (path) => readFileSync(path, 'utf8'),
): Omit<ConnectionOptions, 'logger' | 'name'> {
  return {
    url: config.redisUrl,
    connectTimeoutMs: config.redisConnectTimeoutMs,
    password: config.redisPassword,
    tlsCaPem: config.redisTlsCaFile ? readFile(config.redisTlsCaFile) : undefined,
    sentinel:
      config.redisSentinels.length > 0
        ? {
            sentinels: config.redisSentinels,
            masterName: config.redisSentinelMaster,
            password: config.redisSentinelPassword,
          }
        : undefined,
  };
}

const idle = (name: string, stop: () => Promise<void> | void): Runnable => ({
  name,
  start: () => Promise.resolve(),
  stop: async () => {
    await stop();
  },
});

/**
 * The one composition root of every cvm process (STYLE.md): `cvm serve` runs all roles, `cvm
 * receiver|worker|reconciler` one each. Start order: connections, queues, the CV informer, the ops
 * port, workers, the reconciler, and intake last; stop runs backwards, so intake stops first and
 * Redis closes last. Resolves once everything started; the signal handler ends the process.
 */
export async function runRoles(
  config: Config,
  roles: Roles,
  logger: Logger = createLogger({ level: config.logLevel, name: 'cvm' }),
): Promise<Lifecycle> {
  const metrics = new Metrics();
  const connection = { ...redisTargetFor(config), logger };
  const producer = createProducerConnection({ ...connection, name: 'cvm-producer' });
  const lifecycle = new Lifecycle({ logger, stopTimeoutMs: config.shutdownTimeoutMs });
  lifecycle.add(idle('redis-producer', () => closeConnection(producer)));

  const pushEvents = new PushEventQueue({
    connection: producer,
    prefix: config.queuePrefix,
    replicasToAck: config.redisIntakeReplicas,
    // The receiver records its events for the poller in the round trip that enqueues them.
    ...(roles.receiver ? { pollState: new RedisPollState(producer, config.queuePrefix) } : {}),
  });
  const rollouts = new RolloutQueue({
    connection: producer,
    prefix: config.queuePrefix,
    attempts: config.rolloutAttempts,
    backoffMs: config.rolloutBackoffMs,
  });
  const notifications = new NotificationQueue({
    connection: producer,
    prefix: config.queuePrefix,
    attempts: config.notifyAttempts,
    backoffMs: config.notifyBackoffMs,
  });
  lifecycle.add(
    idle('queues', async () => {
      await Promise.all([pushEvents.close(), rollouts.close(), notifications.close()]);
    }),
  );

  const needsKube = roles.worker || roles.reconciler;
  // A role's modules are loaded only by a process that runs it: `cvm receiver` loads no
  // Kubernetes client, registry client, worker or reconciler.
  const [kubeModule, registriesModule] = needsKube
    ? await Promise.all([import('../kube/kube-adapters.js'), import('./registry-clients-for.js')])
    : [undefined, undefined];
  const kube = kubeModule
    ? kubeModule.createKubeAdapters({
        ...(config.kubeconfig ? { kubeconfigPath: config.kubeconfig } : {}),
        requestTimeoutMs: config.kubeRequestTimeoutMs,
        logger,
      })
    : undefined;
  const registries = registriesModule?.registryClientsFor(config, metrics);
  if (registries) lifecycle.add(idle('registries', () => registries.stop()));
  if (kube) {
    lifecycle.add(kube.index);
    // The workload watcher serves the REST API's workloads (and the worker's rollouts).
    lifecycle.add(kube.signals);
  }

  const workerConnection = roles.worker
    ? createWorkerConnection({ ...connection, name: 'cvm-worker' })
    : undefined;
  if (workerConnection)
    lifecycle.add(idle('redis-worker', () => closeConnection(workerConnection)));

  // The dashboard's live updates; stopped before the ops server, so its drain waits for no stream.
  const stream = kube
    ? new ChangeStream({ containerVersions: kube.index, workloads: kube.signals })
    : undefined;
  lifecycle.add(
    new HttpServer({
      name: 'ops-server',
      port: config.opsPort,
      host: config.listenHost,
      handler: createOpsApp({
        metrics,
        readiness: [{ name: 'redis', check: () => producer.status === 'ready' }],
        opsToken: config.opsToken,
        adminToken: config.adminToken,
        queues: [pushEvents.queue, rollouts.queue, notifications.queue],
        queueAdmin: new QueueAdmin({ pushEvents, rollouts, notifications }),
        sessionSeconds: config.opsSessionSeconds,
        ...(stream ? { stream } : {}),
        ...(kube
          ? {
              api: {
                cvs: kube.index,
                workloads: kube.signals,
                writer: kube.store,
                history: kube.history,
                events: kube.eventReader,
              },
            }
          : {}),
      }),
    }),
  );
  if (stream) lifecycle.add(stream);

  if (roles.worker && kube && registries && workerConnection) {
    const { createWorkerRole } = await import('../workers/worker-role.js');
    const role = createWorkerRole({
      config,
      logger,
      metrics,
      kube,
      registries,
      workerConnection,
      rollouts: rollouts,
      notifications,
      rechecks: new RedisPollState(workerConnection, config.queuePrefix),
      ...(config.cosignPublicKeyFile
        ? { cosignPublicKey: readFileSync(config.cosignPublicKeyFile, 'utf8') }
        : {}),
    });
    // The informer and the watcher are already in the lifecycle; the role's other parts follow.
    for (const component of role.components)
      if (component !== kube.index && component !== kube.signals) lifecycle.add(component);
  }
  if (roles.reconciler && kube && registries) {
    const { createReconcilerRole } = await import('../reconciler/reconciler-role.js');
    const role = createReconcilerRole({
      config,
      logger,
      metrics,
      source: kube.index,
      store: kube.store,
      workloads: kube.workloads,
      workloadCache: kube.signals,
      services: kube.services,
      events: kube.events,
      registries,
      tagWriters: registries,
      history: kube.history,
      rollouts,
      producerConnection: producer,
    });
    for (const component of role.components) lifecycle.add(component);
  }
  if (roles.receiver) {
    const { createReceiverRole } = await import('../receiver/receiver-role.js');
    const role = await createReceiverRole({
      config,
      logger,
      metrics,
      sink: pushEvents,
      host: config.listenHost,
    });
    for (const component of role.components) lifecycle.add(component);
  }
  handleSignals(lifecycle, { logger, exit: (code) => process.exit(code) });
  await lifecycle.start();
  logger.info(
    {
      roles,
      opsPort: config.opsPort,
      webhookPort: roles.receiver ? config.webhookPort : undefined,
    },
    'cvm started',
  );
  return lifecycle;
}
