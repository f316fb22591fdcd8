import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import type { Job } from 'bullmq';
import type { PushEvent } from '../../src/events/push-event.js';
import { createLogger } from '../../src/observability/logger.js';
import { Metrics } from '../../src/observability/metrics.js';
import {
  closeConnection,
  createProducerConnection,
  waitForReady,
  type Redis,
} from '../../src/queue/connections.js';
import { PushEventQueue, type PushEventQueueOptions } from '../../src/queue/push-event-queue.js';
import { Ingest, type IngestDeps } from '../../src/receiver/ingest.js';

export const MACHINE_REDIS_URL = process.env.CVM_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A logger whose lines a test can read. */
export function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString().split('\n').filter(Boolean))
        lines.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  return { lines, logger: createLogger({ level: 'debug', destination }) };
}

/** The receiver's parts on a real Redis with a prefix of its own, and a way to read the jobs. */
export async function receiverParts(
  redisUrl = MACHINE_REDIS_URL,
  {
    waitForRedis = true,
    prefix = `test-${randomUUID().slice(0, 8)}`,
    queueOptions = {},
    ingestOptions = {},
  }: {
    waitForRedis?: boolean;
    /** Another parts' prefix, to reach its queue through other options. */
    prefix?: string;
    queueOptions?: Partial<PushEventQueueOptions>;
    ingestOptions?: Partial<Pick<IngestDeps, 'maxEventsPerDelivery'>>;
  } = {},
) {
  const { lines, logger } = capturingLogger();
  const metrics = new Metrics({ defaultMetrics: false });
  const connection: Redis = createProducerConnection({
    url: redisUrl,
    connectTimeoutMs: 500,
    logger,
    name: 'test-producer',
  });
  if (waitForRedis) await waitForReady(connection, 5_000);
  const queue = new PushEventQueue({ connection, prefix, ...queueOptions });
  const ingest = new Ingest({ sink: queue, metrics, logger, ...ingestOptions });
  return {
    prefix,
    logs: lines,
    logger,
    metrics,
    connection,
    queue,
    ingest,
    /** Every job on push-events, oldest first. */
    jobs: async (): Promise<Job<PushEvent>[]> =>
      (
        await queue.queue.getJobs([
          'wait',
          'active',
          'completed',
          'failed',
          'delayed',
          'prioritized',
        ])
      ).sort((a, b) => a.timestamp - b.timestamp),
    metric: async (name: string, labels: Record<string, string>): Promise<number> => {
      const metric = (await metrics.registry.getSingleMetric(name)?.get())?.values.find((v) =>
        Object.entries(labels).every(([k, value]) => v.labels[k] === value),
      );
      return metric?.value ?? 0;
    },
    close: async () => {
      if (connection.status === 'ready')
        await queue.queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close();
      await closeConnection(connection);
    },
  };
}
