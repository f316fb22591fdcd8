import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { QueueName } from '../../src/queue/names.js';
import { rolloutDeduplicationId } from '../../src/queue/rollout-queue.js';
import { deadLetterQueues, pushEvent, rolloutFor } from '../support/dead-letters.js';
import { freePort } from '../support/redis-server.js';

const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

/** Runs `cvm` as a child process with only the given CVM_* variables. */
async function cvm(args: string[], env: Record<string, string>) {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('CVM_')),
  );
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', main, ...args],
      { env: { ...clean, ...env }, timeout: 20_000 },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

type Queues = Awaited<ReturnType<typeof deadLetterQueues>>;
let opened: Queues[] = [];
const open = async (name: string) => {
  const q = await deadLetterQueues(name);
  opened.push(q);
  return q;
};
afterEach(async () => {
  for (const q of opened) await q.close();
  opened = [];
});

/** Two failed push events, one failed rollout, one waiting push event. */
async function withDeadLetters(name: string) {
  const q = await open(name);
  const [a, b] = await q.pushEvents.enqueue([pushEvent('prod'), pushEvent('staging')]);
  await q.failAll(QueueName.PushEvents, 2);
  await q.rollouts.enqueue(rolloutFor('api'));
  await q.failAll(QueueName.Rollouts, 1);
  await q.pushEvents.enqueue([pushEvent('canary')]);
  const [failedRollout] = await q.rollouts.queue.getFailed();
  return { q, pushIds: [a!.jobId, b!.jobId], rolloutId: failedRollout!.id! };
}

describe('cvm queue stats', () => {
  it('counts each queue’s jobs by state, as a table and as JSON', async () => {
    const { q } = await withDeadLetters('cli-stats');
    const json = await cvm(['queue', 'stats', '-o', 'json'], q.env);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual([
      { queue: 'push-events', waiting: 1, active: 0, delayed: 0, failed: 2, completed: 0 },
      { queue: 'rollouts', waiting: 0, active: 0, delayed: 0, failed: 1, completed: 0 },
      { queue: 'notifications', waiting: 0, active: 0, delayed: 0, failed: 0, completed: 0 },
    ]);
    const text = await cvm(['queue', 'stats'], q.env);
    expect(text.code).toBe(0);
    expect(text.stdout.split('\n')[0]).toMatch(
      /^QUEUE\s+WAITING\s+ACTIVE\s+DELAYED\s+FAILED\s+COMPLETED$/,
    );
    expect(text.stdout).toMatch(/push-events\s+1\s+0\s+0\s+2\s+0/);
    expect(text.stdout).toMatch(/rollouts\s+0\s+0\s+0\s+1\s+0/);
  });

  it('exits 1 naming CVM_REDIS_URL when Redis does not answer', async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    const result = await cvm(['queue', 'stats'], {
      CVM_REDIS_URL: url,
      CVM_REDIS_CONNECT_TIMEOUT_MS: '300',
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^cvm: redis at 127\.0\.0\.1:\d+ \(CVM_REDIS_URL\) did not answer/,
    );
  });
});

describe('cvm queue failed', () => {
  it('lists dead letters with id, name, reason, attempts and when; --queue and --limit narrow it', async () => {
    const { q, pushIds, rolloutId } = await withDeadLetters('cli-failed');
    const all = await cvm(['queue', 'failed', '-o', 'json'], q.env);
    expect(all.code).toBe(0);
    const jobs = JSON.parse(all.stdout) as Record<string, unknown>[];
    expect(jobs).toHaveLength(3);
    expect(jobs).toContainEqual({
      queue: 'rollouts',
      id: rolloutId,
      name: 'shop/api',
      failedReason: 'registry unavailable: connect ECONNREFUSED',
      attempts: 1,
      failedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    expect(
      jobs
        .filter((j) => j.queue === 'push-events')
        .map((j) => j.id)
        .sort(),
    ).toEqual([...pushIds].sort());
    expect(jobs.find((j) => j.queue === 'push-events')).toMatchObject({
      name: 'push',
      failedReason: 'route failed: no CV index',
    });

    const one = await cvm(
      ['queue', 'failed', '--queue', 'push-events', '--limit', '1', '-o', 'json'],
      q.env,
    );
    expect(JSON.parse(one.stdout)).toHaveLength(1);
    const table = await cvm(['queue', 'failed', '--queue', 'rollouts'], q.env);
    expect(table.stdout).toMatch(/^QUEUE\s+ID\s+NAME\s+ATTEMPTS\s+FAILED AT\s+REASON\n/);
    expect(table.stdout).toContain(`rollouts  ${rolloutId}`);
  });

  it.each([
    [['queue', 'failed', '--limit', '0'], /--limit must be a whole number from 1 to 10000/],
    [
      ['queue', 'failed', '--queue', 'events'],
      /argument 'events' is invalid.*push-events, rollouts/,
    ],
    [['queue', 'stats', '-o', 'yaml'], /argument 'yaml' is invalid/],
    [['queue', 'retry'], /retry: give the ids of failed jobs, or --all/],
    [['queue', 'retry', '--all', '17'], /give job ids or --all, not both/],
    [['queue', 'drop', '--all'], /add --yes to confirm/],
  ])('%j is a usage error (exit 2) naming what is wrong', async (args, message) => {
    const result = await cvm(args, { CVM_QUEUE_PREFIX: 'test-cli-usage-never-written' });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });
});

describe('cvm queue retry', () => {
  it('retries a failed rollout through the per-CV deduplication: one job for the CV, never two', async () => {
    const { q, rolloutId } = await withDeadLetters('cli-retry-rollout');
    // Since the rollout failed, the CV was asked for again (a poll, a drift check): it has a job.
    await q.rollouts.enqueue(rolloutFor('api'));
    const result = await cvm(['queue', 'retry', rolloutId], q.env);
    expect(result).toMatchObject({ code: 0, stdout: `retried rollouts/${rolloutId}\n` });
    const jobs = await q.rollouts.queue.getJobs(['waiting', 'delayed', 'active', 'failed']);
    expect(jobs.map((j) => j.data.name)).toEqual(['api']);
    expect(await q.rollouts.queue.getFailedCount()).toBe(0);
    // And the one job left is the CV's deduplicated job: a further request collapses into it.
    expect(
      await q.rollouts.queue.getDeduplicationJobId(rolloutDeduplicationId('shop', 'api')),
    ).toBe(jobs[0]!.id);
  });

  it('retries a failed rollout whose CV has no job now as a new job with a fresh trigger time', async () => {
    const { q, rolloutId } = await withDeadLetters('cli-retry-alone');
    const before = Date.now();
    expect((await cvm(['queue', 'retry', '--queue', 'rollouts', rolloutId], q.env)).code).toBe(0);
    const [job, ...more] = await q.rollouts.queue.getWaiting();
    expect(more).toEqual([]);
    expect(job!.data).toMatchObject({ namespace: 'shop', name: 'api', uid: 'uid-api' });
    expect(Date.parse(job!.data.trigger.receivedAt)).toBeGreaterThanOrEqual(before - 1_000);
  });

  it('retries a failed push event in place: same id, attempts reset, back to waiting', async () => {
    const { q, pushIds } = await withDeadLetters('cli-retry-push');
    const result = await cvm(['queue', 'retry', pushIds[0]!], q.env);
    expect(result).toMatchObject({ code: 0, stdout: `retried push-events/${pushIds[0]}\n` });
    const job = await q.pushEvents.queue.getJob(pushIds[0]!);
    expect(await job!.getState()).toBe('waiting');
    expect(job!.attemptsMade).toBe(0);
    expect(await q.pushEvents.queue.getFailedCount()).toBe(1);
  });

  it('retries what it finds and exits 1 naming each id that is no failed job', async () => {
    const { q, pushIds } = await withDeadLetters('cli-retry-missing');
    const result = await cvm(['queue', 'retry', pushIds[1]!, 'no-such-job'], q.env);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe(`retried push-events/${pushIds[1]}\n`);
    expect(result.stderr).toBe(
      'cvm: no failed job "no-such-job" in push-events or rollouts or notifications\n',
    );
    expect(await q.pushEvents.queue.getFailedCount()).toBe(1);
  });

  it('--all --queue push-events retries every failed push event and leaves rollouts alone', async () => {
    const { q } = await withDeadLetters('cli-retry-all');
    const result = await cvm(['queue', 'retry', '--all', '--queue', 'push-events'], q.env);
    expect(result).toMatchObject({ code: 0, stdout: 'retried 2 failed jobs of push-events\n' });
    expect(await q.pushEvents.queue.getFailedCount()).toBe(0);
    expect(await q.pushEvents.queue.getWaitingCount()).toBe(3);
    expect(await q.rollouts.queue.getFailedCount()).toBe(1);
  });
});

describe('cvm queue drop', () => {
  it('removes the failed jobs named, for good', async () => {
    const { q, pushIds, rolloutId } = await withDeadLetters('cli-drop');
    const result = await cvm(['queue', 'drop', pushIds[0]!, rolloutId], q.env);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      `dropped push-events/${pushIds[0]}\ndropped rollouts/${rolloutId}\n`,
    );
    expect(await q.pushEvents.queue.getJob(pushIds[0]!)).toBeUndefined();
    expect(await q.rollouts.queue.getJobCounts()).toMatchObject({ failed: 0, waiting: 0 });
    expect(await q.pushEvents.queue.getFailedCount()).toBe(1);
  });

  it('--all needs --yes, then removes every failed job and nothing else', async () => {
    const { q } = await withDeadLetters('cli-drop-all');
    const refused = await cvm(['queue', 'drop', '--all'], q.env);
    expect(refused.code).toBe(2);
    expect(await q.pushEvents.queue.getFailedCount()).toBe(2);
    const result = await cvm(['queue', 'drop', '--all', '--yes'], q.env);
    expect(result).toMatchObject({
      code: 0,
      stdout:
        'dropped 2 failed jobs of push-events\ndropped 1 failed job of rollouts\ndropped 0 failed jobs of notifications\n',
    });
    expect(await q.pushEvents.queue.getJobCounts()).toMatchObject({ failed: 0, waiting: 1 });
    expect(await q.rollouts.queue.getFailedCount()).toBe(0);
  });

  it('exits 1 for an id that is a job but not a failed one', async () => {
    const { q } = await withDeadLetters('cli-drop-waiting');
    const [waiting] = await q.pushEvents.queue.getWaiting();
    const result = await cvm(['queue', 'drop', waiting!.id!], q.env);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`no failed job "${waiting!.id}"`);
    expect(await waiting!.getState()).toBe('waiting');
  });
});
