import { Command } from 'commander';
import type { Config } from '../config/config.js';
import { HttpServer } from '../lifecycle/http-server.js';
import { Lifecycle } from '../lifecycle/lifecycle.js';
import { handleSignals } from '../lifecycle/signals.js';
import { createOpsApp } from '../http/ops-app.js';
import { createLogger } from '../observability/logger.js';
import { Metrics } from '../observability/metrics.js';
import { closeConnection, createProducerConnection } from '../queue/connections.js';
import { PushEventQueue } from '../queue/push-event-queue.js';
import { createReceiverRole } from '../receiver/receiver-role.js';
import { loadConfigOrExit } from './load-config.js';

/** Composition root of `cvm receiver`: webhooks, SQS intake and the ops port, until signalled. */
export async function runReceiver(config: Config): Promise<void> {
  const logger = createLogger({ level: config.logLevel, name: 'cvm' });
  const metrics = new Metrics();
  const producer = createProducerConnection({
    url: config.redisUrl,
    connectTimeoutMs: config.redisConnectTimeoutMs,
    logger,
    name: 'cvm-receiver',
  });
  const queue = new PushEventQueue({ connection: producer, prefix: config.queuePrefix });
  const lifecycle = new Lifecycle({ logger, stopTimeoutMs: config.shutdownTimeoutMs });
  // Redis first and intake last: intake stops first, connections close last.
  lifecycle.add({
    name: 'redis',
    start: () => Promise.resolve(),
    stop: () => closeConnection(producer),
  });
  lifecycle.add({
    name: 'push-event-queue',
    start: () => Promise.resolve(),
    stop: () => queue.close(),
  });
  lifecycle.add(
    new HttpServer({
      name: 'ops-server',
      port: config.opsPort,
      host: config.listenHost,
      handler: createOpsApp({
        metrics,
        readiness: [{ name: 'redis', check: () => producer.status === 'ready' }],
        opsToken: config.opsToken,
        queues: [queue.queue],
      }),
    }),
  );
  const role = createReceiverRole({
    config,
    logger,
    metrics,
    sink: queue,
    host: config.listenHost,
  });
  for (const component of role.components) lifecycle.add(component);
  handleSignals(lifecycle, { logger, exit: (code) => process.exit(code) });
  await lifecycle.start();
  logger.info(
    {
      webhookPort: role.webhookServer.port,
      opsPort: config.opsPort,
      sqs: role.sqsIntake !== undefined,
    },
    'receiver started',
  );
}

export function receiverCommand(env: NodeJS.ProcessEnv): Command {
  return new Command('receiver')
    .description('serve registry webhooks (and the ECR SQS queue) and enqueue push events')
    .action(async () => runReceiver(loadConfigOrExit(env)));
}
