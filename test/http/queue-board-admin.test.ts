import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { createOpsApp } from '../../src/http/ops-app.js';
import { boardActionOf } from '../../src/http/queue-board-router.js';
import { Metrics } from '../../src/observability/metrics.js';
import { QueueName } from '../../src/queue/names.js';
import { QueueAdmin } from '../../src/queue/queue-admin.js';
import { rolloutDeduplicationId } from '../../src/queue/rollout-queue.js';
import { deadLetterQueues, pushEvent, rolloutFor } from '../support/dead-letters.js';

const OPS = 'ops-token-0123456789abcdef';
const ADMIN = 'admin-token-0123456789abcdef';
const API = '/admin/queues/api/queues';

type Queues = Awaited<ReturnType<typeof deadLetterQueues>>;
let opened: Queues[] = [];
afterEach(async () => {
  for (const q of opened) await q.close();
  opened = [];
});

/** Two failed push events and one failed rollout, and the ops app showing them. */
async function board(name: string, { withAdmin = true } = {}) {
  const q = await deadLetterQueues(name);
  opened.push(q);
  const [a, b] = await q.pushEvents.enqueue([pushEvent('prod'), pushEvent('staging')]);
  await q.failAll(QueueName.PushEvents, 2);
  await q.rollouts.enqueue(rolloutFor('api'));
  await q.failAll(QueueName.Rollouts, 1);
  const [failedRollout] = await q.rollouts.queue.getFailed();
  const app = createOpsApp({
    metrics: new Metrics({ defaultMetrics: false }),
    readiness: [],
    opsToken: OPS,
    adminToken: withAdmin ? ADMIN : undefined,
    queues: [q.pushEvents.queue, q.rollouts.queue],
    queueAdmin: new QueueAdmin({ pushEvents: q.pushEvents, rollouts: q.rollouts }),
  });
  return { q, app, pushIds: [a!.jobId, b!.jobId], rolloutId: failedRollout!.id! };
}

const listed = async (app: Parameters<typeof request>[0], token: string) =>
  (await request(app).get(API).auth('operator', token).expect(200)).body.queues as {
    name: string;
    readOnlyMode: boolean;
    allowRetries: boolean;
  }[];

describe('the queue board with the ops token: reading only', () => {
  it('shows the queues read-only, without action buttons', async () => {
    const { app } = await board('board-ops-read');
    for (const queue of await listed(app, OPS))
      expect(queue).toMatchObject({ readOnlyMode: true, allowRetries: false });
  });

  it.each([
    ['retry a failed job', (ids: { push: string }) => `${API}/push-events/${ids.push}/retry`],
    ['retry every failed job', () => `${API}/push-events/retry/failed`],
    ['clean failed jobs', () => `${API}/push-events/clean/failed`],
    ['promote delayed jobs', () => `${API}/rollouts/promote`],
  ])('may not %s: 403 naming the admin token, and nothing changes', async (_name, path) => {
    const { q, app, pushIds } = await board('board-ops-act');
    const response = await request(app)
      .put(path({ push: pushIds[0]! }))
      .set('authorization', `Bearer ${OPS}`)
      .expect(403);
    expect(response.body).toEqual({
      error: 'forbidden',
      message:
        'retry, clean and promote on the queue board need the admin token (CVM_ADMIN_TOKEN); the ops token only reads',
    });
    expect(await q.pushEvents.queue.getFailedCount()).toBe(2);
  });
});

describe('the queue board with the admin token', () => {
  it('serves the page and shows the queues with their actions enabled', async () => {
    const { app } = await board('board-admin-read');
    await request(app).get('/admin/queues').auth('admin', ADMIN).expect(200);
    for (const queue of await listed(app, ADMIN))
      expect(queue).toMatchObject({ readOnlyMode: false, allowRetries: true });
  });

  it('retries a failed rollout through the CV’s deduplication: one job for the CV, never two', async () => {
    const { q, app, rolloutId } = await board('board-admin-retry-rollout');
    await q.rollouts.enqueue(rolloutFor('api'));
    await request(app).put(`${API}/rollouts/${rolloutId}/retry`).auth('admin', ADMIN).expect(204);
    const jobs = await q.rollouts.queue.getJobs(['waiting', 'delayed', 'active', 'failed']);
    expect(jobs.map((j) => j.data.name)).toEqual(['api']);
    expect(
      await q.rollouts.queue.getDeduplicationJobId(rolloutDeduplicationId('shop', 'api')),
    ).toBe(jobs[0]!.id);
  });

  it('retries every failed push event in place, attempts reset', async () => {
    const { q, app, pushIds } = await board('board-admin-retry-all');
    const response = await request(app)
      .put(`${API}/push-events/retry/failed`)
      .set('authorization', `Bearer ${ADMIN}`)
      .expect(200);
    expect(response.body).toEqual({ retried: 2, skipped: 0 });
    for (const id of pushIds) {
      const job = await q.pushEvents.queue.getJob(id);
      expect({ state: await job!.getState(), attempts: job!.attemptsMade }).toEqual({
        state: 'waiting',
        attempts: 0,
      });
    }
    expect(await q.rollouts.queue.getFailedCount()).toBe(1);
  });

  it('answers 404 for a job that is not a failed one', async () => {
    const { app } = await board('board-admin-retry-missing');
    const response = await request(app)
      .put(`${API}/push-events/no-such-job/retry`)
      .auth('admin', ADMIN)
      .expect(404);
    expect(response.body.message).toContain('no failed job "no-such-job" in push-events');
  });

  it('refuses to retry completed jobs: only dead letters are retried', async () => {
    const { app } = await board('board-admin-retry-completed');
    const response = await request(app)
      .put(`${API}/rollouts/retry/completed`)
      .auth('admin', ADMIN)
      .expect(403);
    expect(response.body.message).toMatch(/only failed jobs are retried/);
  });

  it('cleans a failed job, and a queue’s failed jobs older than the board’s 5 s grace', async () => {
    const { q, app, pushIds } = await board('board-admin-clean');
    await request(app)
      .put(`${API}/push-events/${pushIds[0]}/clean`)
      .auth('admin', ADMIN)
      .expect(204);
    expect(await q.pushEvents.queue.getJob(pushIds[0]!)).toBeUndefined();
    // Bull Board's "clean all" spares jobs that finished within the last 5 s: these just failed.
    await request(app).put(`${API}/push-events/clean/failed`).auth('admin', ADMIN).expect(200);
    expect(await q.pushEvents.queue.getFailedCount()).toBe(1);
    expect(await q.rollouts.queue.getFailedCount()).toBe(1);
  });

  it('promotes a delayed rollout so that it runs now', async () => {
    const { q, app } = await board('board-admin-promote');
    const delayed = await q.rollouts.queue.add('shop/web', rolloutFor('web'), { delay: 600_000 });
    await request(app)
      .put(`${API}/rollouts/${delayed.id}/promote`)
      .auth('admin', ADMIN)
      .expect(204);
    expect(await q.rollouts.queue.getJobState(delayed.id!)).toBe('waiting');
  });

  it.each([
    ['pause a queue', `${API}/rollouts/pause`],
    ['empty a queue', `${API}/push-events/empty`],
    ['obliterate a queue', `${API}/push-events/obliterate`],
    ['pause every queue', `${API}/pause`],
  ])('may not %s: cvm offers retry, clean and promote only', async (_name, path) => {
    const { q, app } = await board('board-admin-other');
    const response = await request(app).put(path).auth('admin', ADMIN).expect(403);
    expect(response.body.message).toMatch(/offers retry, clean and promote; PUT \/api\/.* is none/);
    expect(await q.rollouts.queue.isPaused()).toBe(false);
    expect(await q.pushEvents.queue.getFailedCount()).toBe(2);
  });

  it('refuses a wrong token with 401', async () => {
    const { app } = await board('board-admin-wrong');
    await request(app)
      .put(`${API}/push-events/retry/failed`)
      .auth('admin', `${ADMIN}x`)
      .expect(401);
  });
});

describe('the queue board without CVM_ADMIN_TOKEN', () => {
  it('is read-only for everyone, and an action says how to enable it', async () => {
    const { q, app, rolloutId } = await board('board-no-admin', { withAdmin: false });
    for (const queue of await listed(app, OPS)) expect(queue.readOnlyMode).toBe(true);
    const response = await request(app)
      .put(`${API}/rollouts/${rolloutId}/retry`)
      .auth('operator', OPS)
      .expect(403);
    expect(response.body.message).toBe(
      'the queue board is read-only: set CVM_ADMIN_TOKEN to enable retry, clean and promote',
    );
    expect(await q.rollouts.queue.getFailedCount()).toBe(1);
  });
});

describe('boardActionOf', () => {
  it.each<[string, string, string | undefined]>([
    ['PUT', '/api/queues/rollouts/retry/failed', 'retry-all'],
    ['PUT', '/api/queues/rollouts/17/retry', 'retry-job'],
    ['PUT', '/api/queues/push-events/clean/failed', 'clean'],
    ['PUT', '/api/queues/push-events/ghcr-abc/clean', 'clean'],
    ['PUT', '/api/queues/rollouts/promote', 'promote'],
    ['PUT', '/api/queues/rollouts/17/promote', 'promote'],
    ['PUT', '/api/queues/rollouts/pause', undefined],
    ['PUT', '/api/queues/rollouts/empty', undefined],
    ['POST', '/api/queues/rollouts/add', undefined],
    ['PATCH', '/api/queues/rollouts/17/update-data', undefined],
    ['POST', '/api/queues/rollouts/retry/failed', undefined],
  ])('%s %s is %s', (method, path, kind) => {
    expect(boardActionOf(method, path)?.kind).toBe(kind);
  });
});
