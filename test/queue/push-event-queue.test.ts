import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PushEvent } from '../../src/events/push-event.js';
import {
  createWorkerConnection,
  closeConnection,
  type Redis,
} from '../../src/queue/connections.js';
import { QueueName } from '../../src/queue/names.js';
import { QueueWorker } from '../../src/queue/queue-worker.js';
import { MACHINE_REDIS_URL, receiverParts } from '../support/receiver-parts.js';
import { waitFor } from '../support/wait-for.js';

const quayEvent = (receivedAt: string): PushEvent => ({
  kind: 'push',
  source: 'quay',
  registry: 'quay.io',
  repository: 'acme/api',
  tag: 'prod',
  receivedAt,
});

let parts: Awaited<ReturnType<typeof receiverParts>>;
let workerConnection: Redis;

beforeAll(async () => {
  parts = await receiverParts();
  workerConnection = createWorkerConnection({
    url: MACHINE_REDIS_URL,
    connectTimeoutMs: 500,
    logger: parts.logger,
    name: 'test-worker',
  });
});
afterAll(async () => {
  await parts.close();
  await closeConnection(workerConnection);
});

describe('PushEventQueue, events without id or digest', () => {
  it('reports of a tag while its job waits add nothing; one report while it runs is kept and runs after it', async () => {
    const seen: string[] = [];
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const worker = new QueueWorker<PushEvent>({
      queue: QueueName.PushEvents,
      connection: workerConnection,
      prefix: parts.prefix,
      logger: parts.logger,
      process: async (event) => {
        seen.push(event.receivedAt);
        if (seen.length === 1) await held;
      },
    });
    const [first] = await parts.queue.enqueue([quayEvent('2026-01-01T00:00:01.000Z')]);
    const [waiting] = await parts.queue.enqueue([quayEvent('2026-01-01T00:00:02.000Z')]);
    expect(first?.duplicate).toBe(false);
    expect(waiting?.duplicate).toBe(true);
    await worker.start();
    try {
      await waitFor(() => seen.length === 1, 'the first job to run');
      await parts.queue.enqueue([quayEvent('2026-01-01T00:00:03.000Z')]);
      await parts.queue.enqueue([quayEvent('2026-01-01T00:00:04.000Z')]);
      release();
      await waitFor(() => seen.length === 2, 'the report kept during the run');
      const counts = await parts.queue.queue.getJobCounts('wait', 'active', 'delayed');
      await waitFor(
        async () => (await parts.queue.queue.getJobCounts('wait', 'active')).active === 0,
        'the queue to drain',
      );
      expect(counts.wait).toBe(0);
      expect(seen).toEqual(['2026-01-01T00:00:01.000Z', '2026-01-01T00:00:04.000Z']);
    } finally {
      release();
      await worker.stop();
    }
  });
});
