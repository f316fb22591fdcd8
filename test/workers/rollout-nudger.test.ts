import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RolloutState } from '../../src/api/container-version.js';
import {
  closeConnection,
  createProducerConnection,
  waitForReady,
  type Redis,
} from '../../src/queue/connections.js';
import { RolloutQueue, rolloutDeduplicationId } from '../../src/queue/rollout-queue.js';
import type {
  ContainerVersionChange,
  StoredContainerVersion,
  Workload,
  WorkloadSignal,
} from '../../src/workers/ports.js';
import { RolloutNudger } from '../../src/workers/rollout-nudger.js';
import { MACHINE_REDIS_URL, capturingLogger } from '../support/receiver-parts.js';
import { waitFor } from '../support/wait-for.js';

// The queue side of continuing rollouts, on the machine's Redis. The watch that emits the signals
// is proven through the emulator in worker-handover.test.ts; here the signals are given directly.
const { logger } = capturingLogger();
let connection: Redis;
let rollouts: RolloutQueue;

beforeAll(async () => {
  connection = createProducerConnection({
    url: MACHINE_REDIS_URL,
    connectTimeoutMs: 1_000,
    logger,
    name: 'nudger-test',
  });
  await waitForReady(connection, 5_000);
  rollouts = new RolloutQueue({ connection, prefix: `nudger-${randomUUID().slice(0, 8)}` });
});

afterAll(async () => {
  await rollouts.queue.obliterate({ force: true });
  await rollouts.close();
  await closeConnection(connection);
});

const inFlight: RolloutState = {
  id: 'sha256:1@t',
  strategy: 'Rolling',
  phase: 'Waiting',
  step: 1,
  steps: 1,
  digest: 'sha256:1',
  version: 'v1',
  image: 'ghcr.io/acme/api:v1@sha256:1',
  trigger: 'push',
  startedAt: '2026-12-01T10:00:00Z',
  workloads: [{ kind: 'Deployment', name: 'api', generation: 2 }],
  message: '',
};

const cv = (namespace: string, rollout?: RolloutState): StoredContainerVersion => ({
  apiVersion: 'cvm.dev/v1',
  kind: 'ContainerVersion',
  metadata: {
    namespace,
    name: 'api',
    uid: `uid-${namespace}`,
    generation: 1,
    resourceVersion: '1',
  },
  spec: {},
  status: rollout ? { rollout } : {},
});

const deployment = (namespace: string, status: object): Workload => ({
  kind: 'Deployment',
  namespace,
  name: 'api',
  uid: 'w',
  generation: 2,
  annotations: {},
  containers: [{ name: 'api', image: inFlight.image }],
  initContainers: [],
  object: { metadata: { name: 'api', generation: 2 }, spec: { replicas: 2 }, status },
});

/** A nudger over `cvs`: `emit` gives it a workload signal, `change` a CV change; `lists` counts its reads of every CV. */
function nudger(cvs: StoredContainerVersion[]) {
  let emit: (signal: WorkloadSignal) => void = () => undefined;
  let change: (change: ContainerVersionChange) => void = () => undefined;
  let lists = 0;
  const n = new RolloutNudger({
    cvs: {
      list: () => {
        lists += 1;
        return cvs;
      },
      onChange: (listener) => {
        change = listener;
        return () => undefined;
      },
    },
    signals: {
      onChange: (listener) => {
        emit = listener;
        return () => undefined;
      },
    },
    rollouts,
    logger,
    sweepIntervalMs: 600_000,
    coalesceMs: 10,
  });
  return {
    n,
    emit: (s: WorkloadSignal) => emit(s),
    change: (c: ContainerVersionChange) => change(c),
    lists: () => lists,
  };
}

const stateOf = async (namespace: string) => {
  const id = await rollouts.queue.getDeduplicationJobId(rolloutDeduplicationId(namespace, 'api'));
  return id ? rollouts.queue.getJobState(id) : 'none';
};

describe('RolloutNudger on Redis', () => {
  it('the sweep queues a job for a rollout in flight that has none (Redis lost it), once', async () => {
    const { n } = nudger([cv('lost', inFlight), cv('idle')]);
    expect(await stateOf('lost')).toBe('none');
    expect(await n.sweep()).toBe(1);
    expect(await stateOf('lost')).toBe('waiting');
    expect(await stateOf('idle')).toBe('none');
    expect(await n.sweep()).toBe(0);
  });

  it('a decisive change of a workload promotes the waiting rollout; a change under way does not', async () => {
    const { n, emit } = nudger([cv('wake', inFlight)]);
    await n.start();
    const job = await rollouts.queue.add(
      'wake/api',
      {
        namespace: 'wake',
        name: 'api',
        uid: 'uid-wake',
        trigger: { kind: 'push', receivedAt: 't' },
      },
      { delay: 600_000, deduplication: { id: rolloutDeduplicationId('wake', 'api') } },
    );
    expect(await job.getState()).toBe('delayed');
    const halfway = {
      observedGeneration: 2,
      replicas: 3,
      updatedReplicas: 1,
      availableReplicas: 1,
    };
    emit({
      kind: 'Deployment',
      namespace: 'wake',
      name: 'api',
      deleted: false,
      workload: deployment('wake', halfway),
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(await job.getState()).toBe('delayed');
    const done = { observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 2 };
    emit({
      kind: 'Deployment',
      namespace: 'wake',
      name: 'api',
      deleted: false,
      workload: deployment('wake', done),
    });
    await waitFor(async () => (await job.getState()) === 'waiting', 'the job to be promoted');
    await n.stop();
  });

  it('a CV that starts a rollout is woken by its workload, its change indexed alone (no re-list of every CV)', async () => {
    const { n, emit, change, lists } = nudger([cv('other-a', inFlight), cv('later')]);
    await n.start();
    const done = { observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 2 };
    // The first signal builds the index: 'later' has no rollout yet, so its workload wakes nothing.
    emit({
      kind: 'Deployment',
      namespace: 'later',
      name: 'api',
      deleted: false,
      workload: deployment('later', done),
    });
    const job = await rollouts.queue.add(
      'later/api',
      {
        namespace: 'later',
        name: 'api',
        uid: 'uid-later',
        trigger: { kind: 'push', receivedAt: 't' },
      },
      { delay: 600_000, deduplication: { id: rolloutDeduplicationId('later', 'api') } },
    );
    await new Promise((r) => setTimeout(r, 100));
    expect(await job.getState()).toBe('delayed');
    change({ type: 'update', object: cv('later', inFlight) });
    emit({
      kind: 'Deployment',
      namespace: 'later',
      name: 'api',
      deleted: false,
      workload: deployment('later', done),
    });
    await waitFor(async () => (await job.getState()) === 'waiting', 'the job to be promoted');
    expect(lists()).toBe(1);
    // Once its rollout ended, the CV's workload is out of the index again.
    change({ type: 'update', object: cv('later') });
    const next = await rollouts.queue.add(
      'later-2/api',
      {
        namespace: 'later',
        name: 'api',
        uid: 'uid-later',
        trigger: { kind: 'push', receivedAt: 't' },
      },
      { delay: 600_000, jobId: `later-2-${randomUUID()}` },
    );
    emit({ kind: 'Deployment', namespace: 'later', name: 'api', deleted: true });
    await new Promise((r) => setTimeout(r, 100));
    expect(await next.getState()).toBe('delayed');
    expect(lists()).toBe(1);
    await n.stop();
  });
});
