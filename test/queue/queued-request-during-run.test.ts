import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  closeConnection,
  createProducerConnection,
  createWorkerConnection,
  waitForReady,
  type Redis,
} from '../../src/queue/connections.js';
import { RetryLaterError } from '../../src/queue/job-errors.js';
import { QueueName } from '../../src/queue/names.js';
import { QueueWorker } from '../../src/queue/queue-worker.js';
import {
  RolloutQueue,
  rolloutWaiting,
  takeNewerRollout,
  type RolloutJobData,
  type RolloutTrigger,
} from '../../src/queue/rollout-queue.js';
import { MACHINE_REDIS_URL, capturingLogger } from '../support/receiver-parts.js';
import { waitFor } from '../support/wait-for.js';

// A request (a push) that reaches a CV's rollout job while that job runs is kept by BullMQ to run
// after the job finishes for good (keepLastIfActive). When the run instead ends by waiting (a retry
// backoff after a failed step, or a rollout waiting for its workloads), the job must not sleep
// through that request: CI saw a push wait 13 s behind a sync's retry backoff.
const { logger } = capturingLogger();
const BACKOFF_MS = 60_000;
let producer: Redis;
let workerConnection: Redis;

beforeAll(async () => {
  producer = createProducerConnection({
    url: MACHINE_REDIS_URL,
    connectTimeoutMs: 1_000,
    logger,
    name: 'queued-request-producer',
  });
  workerConnection = createWorkerConnection({
    url: MACHINE_REDIS_URL,
    connectTimeoutMs: 1_000,
    logger,
    name: 'queued-request-worker',
  });
  await waitForReady(producer, 5_000);
});

afterAll(async () => {
  await closeConnection(producer);
  await closeConnection(workerConnection);
});

const trigger = (kind: RolloutTrigger['kind'], digest?: string): RolloutTrigger => ({
  kind,
  ...(digest ? { digest } : {}),
  receivedAt: new Date().toISOString(),
});
const data = (t: RolloutTrigger): RolloutJobData => ({
  namespace: 'shop',
  name: 'api',
  uid: 'uid-api',
  trigger: t,
});

/**
 * A rollouts queue (60 s backoff) and its worker. The first run waits until the test sent its
 * request and then ends as `firstRunEnds` says; later runs succeed. `runs` holds each run's data.
 */
async function harness(firstRunEnds: () => Error) {
  const prefix = `queued-${randomUUID().slice(0, 8)}`;
  const rollouts = new RolloutQueue({ connection: producer, prefix, backoffMs: BACKOFF_MS });
  const runs: RolloutJobData[] = [];
  let requested: () => void = () => undefined;
  const requestSent = new Promise<void>((resolve) => (requested = resolve));
  const worker = new QueueWorker<RolloutJobData>({
    queue: QueueName.Rollouts,
    connection: workerConnection,
    prefix,
    logger,
    takeQueued: takeNewerRollout,
    onWait: rolloutWaiting,
    process: async (job) => {
      runs.push(job);
      if (runs.length > 1) return 'done';
      await requestSent;
      throw firstRunEnds();
    },
  });
  await worker.start();
  const close = async () => {
    await worker.stop();
    await rollouts.queue.obliterate({ force: true });
    await rollouts.close();
  };
  /**
   * `first` is queued and runs; `second` is queued while it runs; resolves to the data of the
   * job's next run, which must come within 15 s (its backoff or recheck is 60 s).
   */
  const twoRuns = async (first: RolloutTrigger, second: RolloutTrigger) => {
    await rollouts.enqueue(data(first));
    await waitFor(() => runs.length === 1, 'the first run');
    await rollouts.enqueue(data(second));
    requested();
    await waitFor(() => runs.length === 2, 'the next run, before its backoff or recheck', {
      timeoutMs: 15_000,
    });
    return runs[1];
  };
  /** Waits for the job to complete, then expects nothing left to run and `count` runs in all. */
  const settlesAfter = async (count: number) => {
    await waitFor(async () => (await counts()).completed === 1, 'the job to complete');
    expect(await counts()).toEqual({
      waiting: 0,
      delayed: 0,
      active: 0,
      prioritized: 0,
      completed: 1,
    });
    expect(runs).toHaveLength(count);
  };
  const counts = () =>
    rollouts.queue.getJobCounts('waiting', 'delayed', 'active', 'prioritized', 'completed');
  return { rollouts, runs, requested, twoRuns, settlesAfter, close };
}

describe('a request queued while a CV’s rollout job runs', () => {
  it('runs at once, with its trigger, when the run fails and would wait for its retry backoff', async () => {
    const h = await harness(() => new Error('registry timed out'));
    try {
      // Without the request the retry would come 30–60 s after the failure.
      const retry = await h.twoRuns(trigger('sync'), trigger('push', 'sha256:pushed'));
      expect(retry?.trigger).toMatchObject({ kind: 'push', digest: 'sha256:pushed' });
      // The request ran as that retry: once the job completed, nothing is left to run it again.
      await h.settlesAfter(2);
    } finally {
      await h.close();
    }
  }, 30_000);

  it('runs at once when the run ends waiting (RetryLaterError), so a waiting rollout sees the push', async () => {
    const h = await harness(() => new RetryLaterError('waiting for deployment "api"', BACKOFF_MS));
    try {
      const next = await h.twoRuns(trigger('resume'), trigger('push', 'sha256:newer'));
      expect(next?.trigger).toMatchObject({ kind: 'push', digest: 'sha256:newer' });
      await h.settlesAfter(2);
    } finally {
      await h.close();
    }
  }, 30_000);

  it('a watch event’s resume queued behind a push run whose step failed does not take the push’s trigger away', async () => {
    const h = await harness(() => new Error('registry timed out'));
    try {
      const retry = await h.twoRuns(trigger('push', 'sha256:first'), trigger('resume'));
      expect(retry?.trigger).toMatchObject({ kind: 'push', digest: 'sha256:first' });
    } finally {
      await h.close();
    }
  }, 30_000);

  it('with nothing queued, a run that ended waiting is rechecked as a resume: the push that started it is not news again', async () => {
    const h = await harness(() => new RetryLaterError('waiting for deployment "api"', 300));
    try {
      const pushed = trigger('push', 'sha256:first');
      await h.rollouts.enqueue(data(pushed));
      h.requested();
      await waitFor(() => h.runs.length === 2, 'the recheck', { timeoutMs: 15_000 });
      expect(h.runs[0]?.trigger.kind).toBe('push');
      expect(h.runs[1]?.trigger).toEqual({ kind: 'resume', receivedAt: pushed.receivedAt });
    } finally {
      await h.close();
    }
  }, 30_000);
});

describe('takeNewerRollout', () => {
  it('takes the queued request, except a resume over a run that had a reason of its own', () => {
    const push = data(trigger('push', 'sha256:a'));
    const resume = data(trigger('resume'));
    const poll = data(trigger('poll'));
    expect(takeNewerRollout(resume, push)).toBe(push);
    expect(takeNewerRollout(push, poll)).toBe(poll);
    expect(takeNewerRollout(push, resume)).toBe(push);
    expect(takeNewerRollout(resume, resume)).toBe(resume);
    const otherCv = { ...resume, uid: 'uid-recreated' };
    expect(takeNewerRollout(push, otherCv)).toBe(otherCv);
  });
});

describe('the order of rollout jobs', () => {
  /** A rollouts queue and a worker (one job at a time) that runs `process`; `order` holds `name:trigger` of each run. */
  async function ordered(process: (job: RolloutJobData, run: number) => Promise<void>) {
    const prefix = `order-${randomUUID().slice(0, 8)}`;
    const rollouts = new RolloutQueue({ connection: producer, prefix, backoffMs: BACKOFF_MS });
    const order: string[] = [];
    const worker = new QueueWorker<RolloutJobData>({
      queue: QueueName.Rollouts,
      connection: workerConnection,
      prefix,
      logger,
      takeQueued: takeNewerRollout,
      onWait: rolloutWaiting,
      waitingPriority: 0,
      process: async (job) => {
        order.push(`${job.name}:${job.trigger.kind}`);
        await process(job, order.length);
      },
    });
    const close = async () => {
      await worker.stop();
      await rollouts.queue.obliterate({ force: true });
      await rollouts.close();
    };
    return { rollouts, order, start: () => worker.start(), close };
  }
  const cv = (name: string, t: RolloutTrigger): RolloutJobData => ({
    namespace: 'shop',
    name,
    uid: `uid-${name}`,
    trigger: t,
  });

  it('a push runs before syncs queued earlier, and one into a queued sync moves it up', async () => {
    const o = await ordered(() => Promise.resolve());
    try {
      for (const name of ['a', 'b', 'c']) await o.rollouts.enqueue(cv(name, trigger('sync')));
      await o.rollouts.enqueue(cv('d', trigger('push', 'sha256:d')));
      await o.rollouts.enqueue(cv('c', trigger('push', 'sha256:c')));
      await o.start();
      await waitFor(() => o.order.length === 4, 'four runs');
      expect(o.order).toEqual(['d:push', 'c:push', 'a:sync', 'b:sync']);
    } finally {
      await o.close();
    }
  }, 30_000);

  it('a rollout that waited continues before the syncs still queued start', async () => {
    // Each sync takes 150 ms; a's first run waits 200 ms: its next run comes before the last sync.
    const o = await ordered(async (job, run) => {
      await new Promise((resolve) => setTimeout(resolve, 150));
      if (job.name === 'a' && run === 1) throw new RetryLaterError('waiting for "a"', 200);
    });
    try {
      const names = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
      for (const name of names) await o.rollouts.enqueue(cv(name, trigger('sync')));
      await o.start();
      await waitFor(() => o.order.length === names.length + 1, 'every run');
      expect(o.order[0]).toBe('a:sync');
      expect(o.order.indexOf('a:resume')).toBeGreaterThan(0);
      expect(o.order.indexOf('a:resume')).toBeLessThan(o.order.indexOf('h:sync'));
    } finally {
      await o.close();
    }
  }, 30_000);
});
