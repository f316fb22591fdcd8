import type { Config } from '../config/config.js';
import { NORMALIZERS } from '../events/sources/index.js';
import { HttpServer } from '../lifecycle/http-server.js';
import type { Runnable } from '../lifecycle/runnable.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { PushEventSink } from '../queue/push-event-queue.js';
import { Ingest } from './ingest.js';
import { webhookSources } from './sources.js';
import type { SqsIntake } from './sqs-intake.js';
import { createWebhookApp } from './webhook-app.js';

export interface ReceiverRoleDeps {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  sink: PushEventSink;
  /** Default 0.0.0.0. */
  host?: string;
}

export interface ReceiverRole {
  webhookServer: HttpServer;
  sqsIntake: SqsIntake | undefined;
  /** In start order: the SQS consumer starts last and stops first. */
  components: Runnable[];
}

/** `us-east-1` from `https://sqs.us-east-1.amazonaws.com/123456789012/q`; undefined for other hosts. */
export function regionOfQueueUrl(queueUrl: string): string | undefined {
  return /^sqs\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/.exec(new URL(queueUrl).hostname)?.[1];
}

/**
 * The receiver's intake: webhook server and, when a queue URL is configured, the SQS consumer
 * (whose modules, the AWS SDK among them, are loaded only then).
 */
export async function createReceiverRole(deps: ReceiverRoleDeps): Promise<ReceiverRole> {
  const logger = deps.logger.child({ component: 'receiver' });
  const ingest = new Ingest({
    sink: deps.sink,
    metrics: deps.metrics,
    logger,
    maxEventsPerDelivery: deps.config.maxEventsPerDelivery,
  });
  const sources = webhookSources(deps.config);
  const enabled = sources.filter((s) => s.enabled).map((s) => s.source);
  logger.info({ sources: enabled }, 'webhook sources enabled');
  const webhookServer = new HttpServer({
    name: 'webhook-server',
    port: deps.config.webhookPort,
    ...(deps.host ? { host: deps.host } : {}),
    handler: createWebhookApp({
      sources,
      ingest,
      metrics: deps.metrics,
      bodyLimitBytes: deps.config.webhookBodyLimitBytes,
    }),
  });
  const sqsIntake = deps.config.sqsQueueUrl
    ? await sqsIntakeFor(deps.config.sqsQueueUrl, deps, ingest, logger)
    : undefined;
  return {
    webhookServer,
    sqsIntake,
    components: sqsIntake ? [webhookServer, sqsIntake] : [webhookServer],
  };
}

async function sqsIntakeFor(
  queueUrl: string,
  deps: ReceiverRoleDeps,
  ingest: Ingest,
  logger: Logger,
): Promise<SqsIntake> {
  const [{ SQSClient }, { SqsIntake }] = await Promise.all([
    import('@aws-sdk/client-sqs'),
    import('./sqs-intake.js'),
  ]);
  return new SqsIntake({
    queueUrl,
    sqs: new SQSClient({
      // The queue's region is in its URL (sqs.<region>.amazonaws.com); the SDK's chain otherwise.
      ...(regionOfQueueUrl(queueUrl) ? { region: regionOfQueueUrl(queueUrl) } : {}),
      ...(deps.config.sqsEndpoint ? { endpoint: deps.config.sqsEndpoint } : {}),
    }),
    endpointOverridden: deps.config.sqsEndpoint !== undefined,
    waitTimeSeconds: deps.config.sqsWaitSeconds,
    visibilityTimeoutSeconds: deps.config.sqsVisibilityTimeoutSeconds,
    sinkReady: () => deps.sink.isReady(),
    normalize: NORMALIZERS.ecr,
    ingest,
    metrics: deps.metrics,
    logger,
  });
}
