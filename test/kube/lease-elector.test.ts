import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LeaseElector, type LeaseElectorOptions } from '../../src/kube/lease-elector.js';
import { parseMicroTime } from '../../src/kube/lease-record.js';
import { createLogger } from '../../src/observability/logger.js';
import { startKubeEmulator, type KubeEmulator } from '../kube-emulator/index.js';
import type { KubeObject } from '../kube-emulator/contract.js';
import { waitFor } from '../support/wait-for.js';

const LEASES = 'leases.coordination.k8s.io';
const MICRO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;
const NAMESPACE = 'lease-elector-test';

let emulator: KubeEmulator;
const running: LeaseElector[] = [];
let leaseCounter = 0;

beforeAll(async () => {
  emulator = await startKubeEmulator({ port: 0 });
  emulator.store.create('namespaces', {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: NAMESPACE },
  });
});

afterEach(async () => {
  emulator.faults.clear();
  await Promise.all(running.splice(0).map((e) => e.stop()));
});

afterAll(async () => {
  await emulator.stop();
});

/** A candidate that journals its callbacks (`a:started`, `a:stopped`) with the time they ran. */
function candidate(
  identity: string,
  leaseName: string,
  journal: { event: string; atMs: number }[],
  options: Partial<LeaseElectorOptions> = {},
): LeaseElector {
  const elector = new LeaseElector({
    kubeconfigPath: emulator.kubeconfigPath,
    namespace: NAMESPACE,
    name: leaseName,
    identity,
    leaseDurationSeconds: 15,
    retryIntervalMs: 200,
    logger: createLogger({ level: 'silent' }),
    onStartedLeading: () => void journal.push({ event: `${identity}:started`, atMs: Date.now() }),
    onStoppedLeading: () => void journal.push({ event: `${identity}:stopped`, atMs: Date.now() }),
    ...options,
  });
  running.push(elector);
  return elector;
}

function newLeaseName(): string {
  leaseCounter += 1;
  return `cvm-reconciler-${leaseCounter}`;
}

function lease(name: string): KubeObject {
  const object = emulator.store.get(LEASES, NAMESPACE, name);
  if (!object) throw new Error(`Lease ${name} does not exist`);
  return object;
}

function events(journal: { event: string }[]): string[] {
  return journal.map((j) => j.event);
}

describe('LeaseElector with two candidates in one process', () => {
  it('exactly one of two candidates started together leads, and the Lease names it', async () => {
    const name = newLeaseName();
    const journal: { event: string; atMs: number }[] = [];
    const a = candidate('a', name, journal, { renewIntervalMs: 300 });
    const b = candidate('b', name, journal, { renewIntervalMs: 300 });
    await Promise.all([a.start(), b.start()]);

    const [leader, follower] = a.isLeader() ? [a, b] : [b, a];
    expect([a.isLeader(), b.isLeader()].filter(Boolean)).toHaveLength(1);
    const created = lease(name);
    expect(created.spec).toMatchObject({
      holderIdentity: leader.identity,
      leaseDurationSeconds: 15,
      leaseTransitions: 0,
    });
    expect(created.spec.renewTime).toMatch(MICRO_TIME);
    expect(created.spec.acquireTime).toMatch(MICRO_TIME);

    // Over several renewals the follower stays a follower and the leader keeps renewing.
    const firstRenew = created.spec.renewTime as string;
    for (let i = 0; i < 10; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(leader.isLeader()).toBe(true);
      expect(follower.isLeader()).toBe(false);
    }
    expect(lease(name).spec.renewTime).not.toBe(firstRenew);
    expect(lease(name).spec.holderIdentity).toBe(leader.identity);
    expect(events(journal)).toEqual([`${leader.identity}:started`]);
  });

  it('stop() of the leader releases the Lease and the follower leads within a second', async () => {
    const name = newLeaseName();
    const journal: { event: string; atMs: number }[] = [];
    const a = candidate('a', name, journal);
    const b = candidate('b', name, journal);
    await a.start();
    await b.start();
    expect(a.isLeader()).toBe(true);
    expect(b.isLeader()).toBe(false);

    const stoppedAt = Date.now();
    await a.stop();
    expect(a.isLeader()).toBe(false);
    await waitFor(() => b.isLeader(), 'b to lead', { timeoutMs: 5_000, intervalMs: 10 });
    const takeoverMs = Date.now() - stoppedAt;
    console.log(`in-process handover after stop(): ${takeoverMs} ms (lease duration 15 s)`);
    expect(takeoverMs).toBeLessThan(1_000);

    expect(lease(name).spec).toMatchObject({
      holderIdentity: 'b',
      leaseDurationSeconds: 15,
      leaseTransitions: 1,
    });
    await a.stop();
    expect(events(journal)).toEqual(['a:started', 'a:stopped', 'b:started']);
  });

  it('a stopped follower does not touch the Lease and calls no callback', async () => {
    const name = newLeaseName();
    const journal: { event: string; atMs: number }[] = [];
    const a = candidate('a', name, journal);
    const b = candidate('b', name, journal);
    await a.start();
    await b.start();
    const before = lease(name).metadata.resourceVersion;
    await b.stop();
    expect(lease(name).metadata.resourceVersion).toBe(before);
    expect(a.isLeader()).toBe(true);
    await a.stop();
    expect(events(journal)).toEqual(['a:started', 'a:stopped']);
    expect(lease(name).spec.holderIdentity).toBeUndefined();
  });
});

describe('LeaseElector when the API server fails', () => {
  it.each([
    ['answers 500', { status: 500 }],
    ['hangs', { hang: true }],
  ])(
    'a leader whose renewals fail because the Lease endpoint %s steps down before its lease expires and leads again after recovery',
    async (_name, fault) => {
      const name = newLeaseName();
      const journal: { event: string; atMs: number }[] = [];
      const a = candidate('a', name, journal, {
        leaseDurationSeconds: 3,
        renewIntervalMs: 500,
        renewDeadlineMs: 2_000,
        requestTimeoutMs: 500,
      });
      await a.start();
      expect(a.isLeader()).toBe(true);

      emulator.faults.inject({
        pathPattern: `/namespaces/${NAMESPACE}/leases/${name}`,
        times: 1e6,
        ...fault,
      });
      const stopped = await waitFor(
        () => journal.find((j) => j.event === 'a:stopped'),
        'a to step down',
        { timeoutMs: 6_000, intervalMs: 10 },
      );
      expect(a.isLeader()).toBe(false);
      // The last renewal that reached the server decides when others may take over.
      const renewedAt = parseMicroTime(lease(name).spec.renewTime)?.getTime() ?? NaN;
      const expiresAt = renewedAt + 3_000;
      console.log(
        `renewals ${_name}: stepped down ${stopped.atMs - renewedAt} ms after the last renewal, ` +
          `${expiresAt - stopped.atMs} ms before the lease expired`,
      );
      expect(stopped.atMs).toBeGreaterThanOrEqual(renewedAt + 1_900);
      expect(stopped.atMs).toBeLessThan(expiresAt - 500);

      emulator.faults.clear();
      await waitFor(() => a.isLeader(), 'a to lead again', { timeoutMs: 5_000, intervalMs: 10 });
      expect(events(journal)).toEqual(['a:started', 'a:stopped', 'a:started']);
      expect(lease(name).spec).toMatchObject({ holderIdentity: 'a', leaseTransitions: 0 });
    },
  );

  it('a candidate that cannot reach the API server starts as a follower and leads once it can', async () => {
    const name = newLeaseName();
    const journal: { event: string; atMs: number }[] = [];
    emulator.faults.inject({ pathPattern: `/leases/${name}`, status: 503, times: 1e6 });
    const a = candidate('a', name, journal);
    await a.start();
    expect(a.isLeader()).toBe(false);
    expect(emulator.store.get(LEASES, NAMESPACE, name)).toBeUndefined();
    emulator.faults.clear();
    await waitFor(() => a.isLeader(), 'a to lead', { timeoutMs: 5_000, intervalMs: 10 });
    expect(lease(name).spec.holderIdentity).toBe('a');
  });
});

describe('LeaseElector on conflicts', () => {
  function expiredLease(name: string): void {
    emulator.store.create(LEASES, {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name, namespace: NAMESPACE },
      spec: {
        holderIdentity: 'old',
        leaseDurationSeconds: 15,
        acquireTime: '2026-01-01T00:00:00.000000Z',
        renewTime: '2026-01-01T00:00:00.000000Z',
        leaseTransitions: 4,
      },
    });
  }

  it('a 409 on replace when taking over an expired Lease means not leader', async () => {
    const name = newLeaseName();
    expiredLease(name);
    const journal: { event: string; atMs: number }[] = [];
    emulator.faults.inject({ method: 'PUT', pathPattern: `/leases/${name}`, status: 409 });
    const a = candidate('a', name, journal, { retryIntervalMs: 500 });
    await a.start();
    expect(a.isLeader()).toBe(false);
    expect(events(journal)).toEqual([]);
    expect(lease(name).spec.holderIdentity).toBe('old');

    // The next attempt reads the Lease again and, nobody else having taken it, wins.
    await waitFor(() => a.isLeader(), 'a to lead', { timeoutMs: 5_000, intervalMs: 10 });
    expect(lease(name).spec).toMatchObject({ holderIdentity: 'a', leaseTransitions: 5 });
    expect(events(journal)).toEqual(['a:started']);
  });

  it('a 409 on a renewal makes the leader step down, then it re-reads and leads again', async () => {
    const name = newLeaseName();
    const journal: { event: string; atMs: number }[] = [];
    const a = candidate('a', name, journal, { renewIntervalMs: 200 });
    await a.start();
    expect(a.isLeader()).toBe(true);
    emulator.faults.inject({ method: 'PUT', pathPattern: `/leases/${name}`, status: 409 });
    await waitFor(() => journal.some((j) => j.event === 'a:stopped'), 'a to step down', {
      timeoutMs: 3_000,
      intervalMs: 10,
    });
    await waitFor(() => a.isLeader(), 'a to lead again', { timeoutMs: 3_000, intervalMs: 10 });
    expect(events(journal)).toEqual(['a:started', 'a:stopped', 'a:started']);
  });

  it('a candidate does not take a Lease another identity renewed recently', async () => {
    const name = newLeaseName();
    const now = new Date().toISOString().replace('Z', '000Z');
    emulator.store.create(LEASES, {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name, namespace: NAMESPACE },
      spec: { holderIdentity: 'elsewhere', leaseDurationSeconds: 15, renewTime: now },
    });
    const journal: { event: string; atMs: number }[] = [];
    const a = candidate('a', name, journal);
    await a.start();
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(a.isLeader()).toBe(false);
    expect(lease(name).spec.holderIdentity).toBe('elsewhere');
    expect(events(journal)).toEqual([]);
  });
});
