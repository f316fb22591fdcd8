import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { describeMissing } from '../support/prerequisites.js';
import { startCvmProcess } from '../support/cvm-process.js';
import {
  containerVersion,
  deployment,
  namespace,
  startCvmStack,
  type CvmStack,
} from '../support/cvm-stack.js';
import { RedisSentinelGroup } from '../support/redis-sentinel.js';
import { TestRedisServer, freePort } from '../support/redis-server.js';
import { waitFor } from '../support/wait-for.js';

// The stack's own in-process parts (unused here) get a scratch Redis; cvm's receiver and worker
// processes reach the Sentinel-managed one.
let scratch: TestRedisServer;
let group: RedisSentinelGroup;
let stack: CvmStack;
let receiverUrl: string;
const processes: ChildProcess[] = [];
const CVS = Array.from({ length: 6 }, (_, i) => `sentinel-${i}`);

const sentinelMissing = inject('missingPrerequisites').filter((p) => p.key === 'redis-sentinel');

beforeAll(async () => {
  // Fails naming what is missing (and how to get it) instead of an obscure spawn error.
  if (sentinelMissing.length > 0) throw new Error(describeMissing(sentinelMissing));
  scratch = await TestRedisServer.start();
  group = await RedisSentinelGroup.start(2);
  // Pods take 20 emulated s (2 real s) to be ready: rollouts are in flight when the primary dies.
  stack = await startCvmStack({
    redisUrl: scratch.url,
    workers: false,
    notifications: false,
    podReadySeconds: 20,
  });
  const webhookPort = await freePort();
  receiverUrl = `http://127.0.0.1:${webhookPort}`;
  const env = {
    ...stack.env,
    // Only the scheme counts with sentinels: the primary's address comes from them.
    CVM_REDIS_URL: 'redis://127.0.0.1:1',
    CVM_REDIS_SENTINELS: group.sentinels,
    CVM_REDIS_SENTINEL_MASTER: group.masterName,
    CVM_REDIS_INTAKE_REPLICAS: '1',
    CVM_REDIS_CONNECT_TIMEOUT_MS: '500',
    CVM_WEBHOOK_PORT: String(webhookPort),
    CVM_LOG_LEVEL: 'info',
  };
  await startCvmProcess('receiver', env, processes);
  await startCvmProcess('worker', env, processes);
  await stack.apply(
    CVS.flatMap((ns) => [
      namespace(ns),
      deployment(ns, 'api', 'example.com/old/api:1'),
      containerVersion(ns, 'api', {
        imageRepo: stack.repo,
        tag: ns,
        versionPattern: '^sha-[0-9a-f]{7}$',
        selector: { app: 'api' },
        container: 'api',
        pollIntervalSeconds: 0,
      }),
    ]),
  );
}, 90_000);

afterAll(async () => {
  for (const p of processes) if (p.exitCode === null) p.kill('SIGKILL');
  await stack?.stop();
  await group?.stop();
  await scratch?.kill();
});

/**
 * Sends the push event of `tag → digest` as a registry would: again after a non-2xx answer, a
 * bounded number of times. Resolves once it was accepted (202).
 */
async function deliver(tag: string, digest: string, answers: number[]): Promise<void> {
  await waitFor(
    async () => {
      const status = await stack
        .postGeneric({ image: `${stack.repo}:${tag}`, digest }, receiverUrl)
        .catch(() => 0);
      answers.push(status);
      return status === 202;
    },
    `the push event of ${tag} to be accepted`,
    { timeoutMs: 30_000, intervalMs: 200 },
  );
}

async function currentDigests(): Promise<Map<string, string | undefined>> {
  const items = JSON.parse((await stack.kubectl(['get', 'cv', '-A', '-o', 'json'])).stdout)
    .items as any[];
  return new Map(items.map((cv) => [cv.metadata.namespace, cv.status?.currentDigest]));
}

const allAt = async (digests: Map<string, string>) => {
  const current = await currentDigests();
  return [...digests].every(([ns, digest]) => current.get(ns) === digest);
};

describe('Redis Sentinel: the primary dies, a replica is promoted', () => {
  it('cvm follows the new primary and every accepted event is applied exactly once', async () => {
    const answers: number[] = [];
    const pushRound = (round: number) =>
      new Map(
        CVS.map((ns, i) => [ns, stack.push([`sha-${round}${String(i).padStart(6, '0')}`, ns])]),
      );

    const first = pushRound(1);
    for (const [ns, digest] of first) await deliver(ns, digest, answers);
    await waitFor(() => allAt(first), 'every CV to run its first digest', {
      timeoutMs: 60_000,
      intervalMs: 300,
    });

    // Accepted, then the primary dies at once: the jobs are still waiting or running.
    const second = pushRound(2);
    for (const [ns, digest] of second) await deliver(ns, digest, answers);
    const accepted = answers.filter((a) => a === 202).length;
    expect(await allAt(second)).toBe(false);
    const { old, promoted } = await group.killPrimary();
    expect(promoted).not.toBe(old);
    // The registry sends the second round again (a redelivery): while the failover lasts the
    // receiver answers 503 and the sender retries; accepted, it adds no rollout of its own.
    for (const [ns, digest] of second) await deliver(ns, digest, answers);
    // The events the dead primary accepted are applied after the failover. Waited for before the
    // third round moves the tags on: a job of the second round that had not read its tag yet
    // would otherwise roll out the third digest instead (ADR 3), and the history could not tell
    // that from a lost event.
    await waitFor(() => allAt(second), 'every CV to run its second digest after the failover', {
      timeoutMs: 90_000,
      intervalMs: 300,
    });

    // After the failover, cvm writes to the promoted replica.
    const third = pushRound(3);
    for (const [ns, digest] of third) await deliver(ns, digest, answers);
    await waitFor(() => allAt(third), 'every CV to run its third digest', {
      timeoutMs: 90_000,
      intervalMs: 300,
    });

    const unavailable = answers.filter((a) => a !== 202).length;
    console.log(
      `sentinel failover ${old} → ${promoted}: ${answers.filter((a) => a === 202).length} accepted (${accepted} before the kill), ${unavailable} answered otherwise and retried`,
    );
    // Each accepted digest was rolled out once, none twice, none lost (the second round ran
    // even though the primary that accepted it died).
    for (const ns of CVS) {
      const history = (await stack.history(ns, 'api')).map((h) => [h.digest, h.result]);
      expect(history, ns).toEqual([
        [third.get(ns), 'Succeeded'],
        [second.get(ns), 'Succeeded'],
        [first.get(ns), 'Succeeded'],
      ]);
    }
    // Under load the sentinels may fail over once more; the killed server is never primary again.
    expect(await group.primaryPort()).not.toBe(old);
  }, 180_000);
});
