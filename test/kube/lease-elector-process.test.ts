import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseMicroTime } from '../../src/kube/lease-record.js';
import { startKubeEmulator, type KubeEmulator } from '../kube-emulator/index.js';
import { waitFor } from '../support/wait-for.js';

const LEASES = 'leases.coordination.k8s.io';
const NAMESPACE = 'lease-elector-process-test';
const LEASE_DURATION_SECONDS = 3;
const CHILD_RETRY_INTERVAL_MS = 500; // as in test/fixtures/lease-child.ts, plus up to 25 % jitter
const fixture = fileURLToPath(new URL('../fixtures/lease-child.ts', import.meta.url));
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

interface Child {
  identity: string;
  process: ChildProcess;
  /** `leading`/`stopped` lines with the child's own epoch ms; `started` once its first attempt ran. */
  lines: { text: string; atMs: number }[];
}

interface LeaseWrite {
  atMs: number;
  holder: string | undefined;
  transitions: number | undefined;
  renewedAtMs: number | undefined;
}

let emulator: KubeEmulator;
let children: Child[] = [];
let writes: LeaseWrite[] = [];
let unsubscribe: () => void = () => undefined;
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
  unsubscribe();
  await Promise.all(children.map((c) => kill(c, 'SIGKILL')));
  children = [];
  writes = [];
});

afterAll(async () => {
  await emulator.stop();
});

/** Records every write of the Lease `name` as the API server stored it. */
function recordWrites(name: string): void {
  unsubscribe = emulator.store.subscribe((event) => {
    if (event.resource !== LEASES || event.object.metadata.name !== name) return;
    const spec = event.object.spec as {
      holderIdentity?: string;
      leaseTransitions?: number;
      renewTime?: string;
    };
    writes.push({
      atMs: Date.now(),
      holder: spec.holderIdentity,
      transitions: spec.leaseTransitions,
      renewedAtMs: parseMicroTime(spec.renewTime)?.getTime(),
    });
  });
}

function startChild(identity: string, leaseName: string): Child {
  const child: Child = {
    identity,
    lines: [],
    process: spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        fixture,
        emulator.kubeconfigPath,
        identity,
        NAMESPACE,
        String(LEASE_DURATION_SECONDS),
        leaseName,
      ],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] },
    ),
  };
  if (child.process.stdout) {
    createInterface({ input: child.process.stdout }).on('line', (line) => {
      const [text = '', at] = line.split(' ');
      child.lines.push({ text, atMs: at === undefined ? Date.now() : Number(at) });
    });
  }
  children.push(child);
  return child;
}

async function kill(child: Child, signal: NodeJS.Signals): Promise<void> {
  if (child.process.exitCode !== null || child.process.signalCode !== null) return;
  const exited = once(child.process, 'exit');
  child.process.kill(signal);
  await exited;
}

function printed(child: Child, text: string): { text: string; atMs: number }[] {
  return child.lines.filter((l) => l.text === text);
}

/** Starts two candidate processes and returns them once one of them leads. */
async function twoCandidates(): Promise<{ leader: Child; follower: Child; leaseName: string }> {
  leaseCounter += 1;
  const leaseName = `cvm-reconciler-${leaseCounter}`;
  recordWrites(leaseName);
  const a = startChild(`a-${leaseCounter}`, leaseName);
  const b = startChild(`b-${leaseCounter}`, leaseName);
  await waitFor(
    () => printed(a, 'started').length > 0 && printed(b, 'started').length > 0,
    'both candidate processes to start',
    { timeoutMs: 30_000 },
  );
  const leader = await waitFor(
    () => [a, b].find((c) => printed(c, 'leading').length > 0),
    'one candidate to lead',
    { timeoutMs: 5_000 },
  );
  return { leader, follower: leader === a ? b : a, leaseName };
}

describe('LeaseElector across processes', () => {
  it('one of two processes leads; after a SIGKILL the other leads within the lease duration, never before', async () => {
    const { leader, follower, leaseName } = await twoCandidates();

    // Through several renewals only the leader leads.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(printed(follower, 'leading')).toEqual([]);
    expect(emulator.store.get(LEASES, NAMESPACE, leaseName)?.spec.holderIdentity).toBe(
      leader.identity,
    );

    const killedAtMs = Date.now();
    await kill(leader, 'SIGKILL');
    const [leading] = await waitFor(
      () => {
        const lines = printed(follower, 'leading');
        return lines.length > 0 && lines;
      },
      'the follower to lead',
      { timeoutMs: 10_000, intervalMs: 10 },
    );
    const takeoverMs = (leading?.atMs ?? NaN) - killedAtMs;
    const beforeKill = writes.filter((w) => w.atMs < killedAtMs);
    const lastRenewalMs = Math.max(...beforeKill.map((w) => w.renewedAtMs ?? NaN));
    const takeover = writes.find((w) => w.holder === follower.identity);
    console.log(
      `SIGKILL takeover across processes: ${takeoverMs} ms after the kill, ` +
        `${(takeover?.atMs ?? NaN) - lastRenewalMs} ms after the last renewal ` +
        `(lease ${LEASE_DURATION_SECONDS} s, retry ${CHILD_RETRY_INTERVAL_MS} ms)`,
    );
    expect(takeoverMs).toBeGreaterThan(0);
    expect(takeoverMs).toBeLessThan(LEASE_DURATION_SECONDS * 1000 + CHILD_RETRY_INTERVAL_MS * 1.25);

    // The Lease history: only the leader wrote until it was killed; the follower took over only
    // once the leader's last renewal had expired, and counted one transition.
    expect(beforeKill.length).toBeGreaterThan(1);
    expect(new Set(beforeKill.map((w) => w.holder))).toEqual(new Set([leader.identity]));
    expect(takeover).toBeDefined();
    expect(takeover?.atMs).toBeGreaterThanOrEqual(killedAtMs);
    expect(takeover?.atMs).toBeGreaterThanOrEqual(lastRenewalMs + LEASE_DURATION_SECONDS * 1000);
    expect(takeover?.transitions).toBe((beforeKill.at(-1)?.transitions ?? NaN) + 1);
    expect(printed(leader, 'leading')).toHaveLength(1);
    expect(printed(follower, 'leading')).toHaveLength(1);
  }, 60_000);

  it('a leader stopped with SIGTERM releases the Lease and the other process leads at once', async () => {
    const { leader, follower, leaseName } = await twoCandidates();

    const stoppedAtMs = Date.now();
    await kill(leader, 'SIGTERM');
    expect(leader.process.exitCode).toBe(0);
    expect(printed(leader, 'stopped')).toHaveLength(1);
    const [leading] = await waitFor(
      () => {
        const lines = printed(follower, 'leading');
        return lines.length > 0 && lines;
      },
      'the follower to lead',
      { timeoutMs: 10_000, intervalMs: 10 },
    );
    const takeoverMs = (leading?.atMs ?? NaN) - stoppedAtMs;
    console.log(`SIGTERM handover across processes: ${takeoverMs} ms after the signal`);
    expect(takeoverMs).toBeLessThan(CHILD_RETRY_INTERVAL_MS * 1.25 + 1_000);
    // The leader's own `stopped` came before the follower's `leading`.
    expect(printed(leader, 'stopped')[0]?.atMs).toBeLessThanOrEqual(leading?.atMs ?? NaN);
    expect(emulator.store.get(LEASES, NAMESPACE, leaseName)?.spec).toMatchObject({
      holderIdentity: follower.identity,
      leaseTransitions: 1,
    });
  }, 60_000);
});
