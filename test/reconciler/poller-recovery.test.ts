import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registryClientsFor } from '../../src/cli/registry-clients-for.js';
import { loadConfig } from '../../src/config/config.js';
import { Metrics } from '../../src/observability/metrics.js';
import {
  closeConnection,
  createProducerConnection,
  waitForReady,
  type Redis,
} from '../../src/queue/connections.js';
import { RedisPollState } from '../../src/queue/poll-state.js';
import type { RolloutJobData } from '../../src/queue/rollout-queue.js';
import { targetKey, type PollableCv } from '../../src/reconciler/poll-decision.js';
import { Poller, type PollStateStore } from '../../src/reconciler/poller.js';
import type { RegistryClients } from '../../src/registry/registry-clients.js';
import { DockerRegistry } from '../support/docker-registry.js';
import { skopeoPush, writeOciImage } from '../support/oci-layout.js';
import { MACHINE_REDIS_URL, capturingLogger } from '../support/receiver-parts.js';

const prefix = `test-recover-${randomUUID().slice(0, 8)}`;
const { logger } = capturingLogger();
const OLD = `sha256:${'0'.repeat(64)}`;
let registry: DockerRegistry;
let registries: RegistryClients;
let redis: Redis;
let state: RedisPollState;
let digest: string;

beforeAll(async () => {
  registry = await DockerRegistry.start();
  const image = writeOciImage('recover', { files: { 'app/content.txt': randomUUID() } });
  skopeoPush(image, `${registry.host}/team/api:prod`);
  skopeoPush(image, `${registry.host}/team/api:polled`);
  digest = image.manifestDigest;
  registries = registryClientsFor(loadConfig({}), new Metrics({ defaultMetrics: false }));
  redis = createProducerConnection({
    url: MACHINE_REDIS_URL,
    connectTimeoutMs: 500,
    logger,
    name: 'test-recover',
  });
  await waitForReady(redis, 5_000);
  state = new RedisPollState(redis, prefix);
}, 60_000);

afterAll(async () => {
  await redis.del(
    ...['poll:events', 'poll:polls', 'poll:backoff', 'poll:recheck', 'epoch'].map(
      (k) => `${prefix}:${k}`,
    ),
  );
  await closeConnection(redis);
  registries.stop();
  await registry.stop();
});

const cv = (name: string, tag: string, pollIntervalSeconds: number): PollableCv => ({
  namespace: 'recover',
  name,
  uid: `uid-${name}`,
  registry: registry.host,
  repository: 'team/api',
  tag,
  pollIntervalSeconds,
  suspend: false,
  currentDigest: OLD,
});

function leader(cvs: PollableCv[]) {
  const enqueued: RolloutJobData[] = [];
  const poller = new Poller({
    cvs: () => cvs,
    state,
    registries,
    rollouts: { enqueue: (data) => Promise.resolve(void enqueued.push(data)) },
    logger,
    tickMs: 3_600_000, // ticks are driven by the test
    maxPollsPerTick: 20,
    recheckDelayMs: 60_000,
  });
  return { poller, enqueued };
}

describe('Poller recovery checks (real Redis, docker-registry)', () => {
  const pushOnly = () => cv('push-only', 'prod', 0);
  const polled = () => cv('polled', 'polled', 3_600);

  it('a leader that starts checks every CV once, push-only ones included; later ticks poll nothing', async () => {
    const { poller, enqueued } = leader([pushOnly(), polled()]);
    await poller.start();
    try {
      const first = await poller.tick();
      expect(first.map((t) => t.key).sort()).toEqual([
        targetKey(registry.host, 'team/api', 'polled'),
        targetKey(registry.host, 'team/api', 'prod'),
      ]);
      expect(enqueued.map((e) => [e.name, e.trigger.digest]).sort()).toEqual([
        ['polled', digest],
        ['push-only', digest],
      ]);
      expect(await poller.tick()).toEqual([]);
    } finally {
      await poller.stop();
    }
  });

  it('when the epoch marker is gone (Redis lost its data), the next tick checks every CV again', async () => {
    const { poller, enqueued } = leader([pushOnly()]);
    await poller.start();
    try {
      await poller.tick();
      expect(await poller.tick()).toEqual([]);
      await redis.del(`${prefix}:epoch`);
      expect((await poller.tick()).map((t) => t.tag)).toEqual(['prod']);
      expect(enqueued).toHaveLength(2);
    } finally {
      await poller.stop();
    }
  });

  it('a recheck polls a push-only target once; one that fails is owed again later', async () => {
    const { poller, enqueued } = leader([pushOnly()]);
    await poller.start();
    try {
      await poller.tick(); // the start's sweep
      const key = targetKey(registry.host, 'team/api', 'prod');
      await state.recheckLater(key, Date.now());
      expect((await poller.tick()).map((t) => t.key)).toEqual([key]);
      expect(enqueued).toHaveLength(2);
      expect(await state.rechecks()).toEqual(new Map());

      await registry.stop();
      await state.recheckLater(key, Date.now());
      const before = Date.now();
      expect((await poller.tick()).map((t) => t.key)).toEqual([key]);
      const owed = (await state.rechecks()).get(key);
      expect(owed).toBeGreaterThanOrEqual(before + 60_000);
      expect(enqueued).toHaveLength(2);
    } finally {
      await registry.resume();
      await poller.stop();
    }
  });
});

describe('Poller schedule (real Redis, docker-registry)', () => {
  it("a leader's start sweep leaves CVs not synced yet or with a rollout in flight to their jobs (they resolve the tag)", async () => {
    const { poller, enqueued } = leader([
      { ...cv('new', 'prod', 0), settled: false },
      { ...cv('synced', 'polled', 0), settled: true },
    ]);
    await poller.start();
    try {
      expect((await poller.tick()).map((t) => t.tag)).toEqual(['polled']);
      expect(enqueued.map((e) => e.name)).toEqual(['synced']);
    } finally {
      await poller.stop();
    }
  });

  it('a target never polled nor pushed is due one interval after the poller first saw it; until it may be due its poll state is not read', async () => {
    const own = `${prefix}-schedule`;
    const ownState = new RedisPollState(redis, own);
    await ownState.markEpoch(0); // no sweep: Redis kept its data
    const reads: number[] = [];
    const counted: PollStateStore = {
      read: (targets) => {
        reads.push(targets.length);
        return ownState.read(targets);
      },
      claimPoll: (...args) => ownState.claimPoll(...args),
      backOff: (...args) => ownState.backOff(...args),
      backoffUntil: () => ownState.backoffUntil(),
      markEpoch: (atMs) => ownState.markEpoch(atMs),
      rechecks: () => ownState.rechecks(),
      recheckDone: (...args) => ownState.recheckDone(...args),
    };
    let now = 1_000_000;
    const enqueued: RolloutJobData[] = [];
    const poller = new Poller({
      cvs: () => [cv('scheduled', 'polled', 60)],
      state: counted,
      registries,
      rollouts: { enqueue: (data) => Promise.resolve(void enqueued.push(data)) },
      logger,
      tickMs: 3_600_000,
      maxPollsPerTick: 20,
      now: () => now,
      jitter: () => 0,
    });
    try {
      expect(await poller.tick()).toEqual([]); // first seen now: due in 60 s
      now += 30_000;
      expect(await poller.tick()).toEqual([]);
      now += 29_000;
      expect(await poller.tick()).toEqual([]);
      expect(reads).toEqual([1]); // read once, then known not due before first seen + 60 s
      now += 2_000;
      expect((await poller.tick()).map((t) => t.tag)).toEqual(['polled']);
      expect(reads).toEqual([1, 1]);
      expect(enqueued.map((e) => e.trigger.kind)).toEqual(['poll']);
      now += 30_000;
      expect(await poller.tick()).toEqual([]); // polled 30 s ago
      expect(reads).toEqual([1, 1]);
    } finally {
      await redis.del(
        ...['poll:events', 'poll:polls', 'poll:backoff', 'poll:recheck', 'epoch'].map(
          (k) => `${own}:${k}`,
        ),
      );
    }
  });
});
