import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  containerVersion,
  deployment,
  namespace,
  startCvmStack,
  type CvmStack,
} from '../support/cvm-stack.js';
import { TestRedisServer } from '../support/redis-server.js';
import { waitFor } from '../support/wait-for.js';

let redis: TestRedisServer;
let stack: CvmStack;

beforeAll(async () => {
  redis = await TestRedisServer.start();
  stack = await startCvmStack({
    redisUrl: redis.url,
    reconciler: true,
    notifications: false,
    env: {
      CVM_POLL_TICK_MS: '200',
      CVM_LEASE_DURATION_SECONDS: '5',
      CVM_ROLLOUT_ATTEMPTS: '2',
      CVM_ROLLOUT_BACKOFF_MS: '100',
      CVM_RECHECK_SECONDS: '1',
    },
  });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  await redis?.kill();
});

/** A push-only CV (pollIntervalSeconds 0) following `tag`, with its Deployment, in namespace `ns`. */
async function pushOnlyCv(ns: string, tag: string): Promise<string> {
  const first = stack.push([`sha-${ns.length}000001`, tag]);
  await stack.apply([
    namespace(ns),
    deployment(ns, 'api', 'example.com/old/api:1'),
    containerVersion(ns, 'api', {
      imageRepo: stack.repo,
      tag,
      versionPattern: '^sha-[0-9a-f]{7}$',
      selector: { app: 'api' },
      container: 'api',
      pollIntervalSeconds: 0,
    }),
  ]);
  await stack.rolloutOf(ns, 'api', first, 30_000);
  return first;
}

const metric = async (name: string, labels: Record<string, string>) =>
  (await stack.metrics.registry.getSingleMetric(name)?.get())?.values.find((v) =>
    Object.entries(labels).every(([k, value]) => v.labels[k] === value),
  )?.value ?? 0;

describe('recovery: no outage leaves a push-only CV behind its tag', () => {
  it('a push whose rollout ran out of retries during a registry outage is rolled out once the registry is back', async () => {
    await pushOnlyCv('dead-letter', 'dl');
    const second = stack.push(['sha-d000002', 'dl']);
    await stack.registry.stop();
    expect(await stack.postGeneric({ image: `${stack.repo}:dl`, digest: second })).toBe(202);
    await waitFor(
      async () => (await metric('cvm_jobs_dead_lettered_total', { queue: 'rollouts' })) >= 1,
      'the rollout job to run out of retries',
      { timeoutMs: 30_000 },
    );
    expect((await stack.rolloutJobCounts()).failed).toBeGreaterThanOrEqual(1);
    await stack.registry.resume();
    const cv = await stack.rolloutOf('dead-letter', 'api', second, 60_000);
    expect(cv.status.currentDigest).toBe(second);
    expect(cv.status.lastRollout.result).toBe('Succeeded');
  }, 120_000);

  it('after Redis restarts without persistence, the leader checks every CV against its registry', async () => {
    await pushOnlyCv('redis-lost', 'lost');
    await redis.kill();
    // Pushed while Redis is gone: whatever cvm had queued for it is lost with Redis' data.
    const second = stack.push(['sha-e000002', 'lost']);
    await redis.start();
    const cv = await stack.rolloutOf('redis-lost', 'api', second, 60_000);
    expect(cv.status.currentDigest).toBe(second);
    expect(
      stack.logs.filter(
        (l) =>
          l.msg === 'checking every ContainerVersion against its registry' &&
          String(l.reason).startsWith('redis lost its data'),
      ),
    ).toHaveLength(1);
  }, 120_000);
});
