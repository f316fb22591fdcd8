import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoreEvent } from '../kube-emulator/contract.js';
import { startCvmProcess, type CvmProcess } from '../support/cvm-process.js';
import { installCvmRbac } from '../support/cvm-rbac.js';
import {
  containerVersion,
  deployment,
  startCvmStack,
  type CvmStack,
} from '../support/cvm-stack.js';
import { freePort } from '../support/redis-server.js';
import { waitFor } from '../support/wait-for.js';

// cvm follows its own image: a CV for the Deployment `cvm` in `cvm-system`, run by `cvm serve`
// child processes as the install's ServiceAccount. The test is the kubelet: each Pod of that
// Deployment whose container can start gets a `cvm serve` process when the Pod is created; the
// Pod turns Ready (its readiness probe passes) only once that process is up, and the process gets
// SIGTERM when the Pod is deleted. The emulator's ReplicaSet controller deletes the old Pod only
// once the new one is Ready (RollingUpdate with one replica: maxUnavailable 0, maxSurge 1), so the
// old cvm keeps running until the new one serves, as on a cluster.

const NS = 'cvm-system';
let stack: CvmStack;
const processes: ChildProcess[] = [];
/** What the kubelet did, in order: `start <pod>`, `stop <pod>`, `exit <pod> <code|signal>`. */
const kubelet: string[] = [];
/** The `cvm serve` process of each Pod name. */
const running = new Map<string, CvmProcess>();
/** Images whose container never comes up (no process, the Pod never Ready). */
let broken: string[] = [];
let env: Record<string, string>;
let stopKubelet = () => {};

/** Images of Pods the emulator must not make Ready by itself (the test's "probe" does). */
const gated: string[] = [];
const applyNeverReady = () => stack.emulator.setNeverReady([...gated, ...broken]);

/** The readiness probe of `name` passed: Ready and ContainersReady True, containers ready. */
async function markReady(name: string): Promise<void> {
  const { store } = stack.emulator;
  const pod = await waitFor(() => {
    const p = store.get('pods', NS, name);
    return p === undefined || p.status?.phase === 'Running' ? (p ?? null) : undefined;
  }, `pod ${name} to run`);
  if (pod === null) return; // deleted meanwhile
  const status = pod.status;
  status.conditions = status.conditions.map((c: any) =>
    c.type === 'Ready' || c.type === 'ContainersReady'
      ? {
          type: c.type,
          status: 'True',
          lastProbeTime: null,
          lastTransitionTime: c.lastTransitionTime,
        }
      : c,
  );
  status.containerStatuses = status.containerStatuses.map((c: any) => ({ ...c, ready: true }));
  store.updateStatus('pods', { ...pod, status });
  kubelet.push(`ready ${name}`);
}

function playKubelet(): () => void {
  const deleted = new Set<string>();
  return stack.emulator.store.subscribe((event: StoreEvent) => {
    const pod = event.object as any;
    if (event.resource !== 'pods' || pod.metadata?.namespace !== NS) return;
    if (pod.metadata.labels?.app !== 'cvm') return;
    const name = pod.metadata.name as string;
    if (event.type === 'ADDED') {
      const image = pod.spec.containers[0].image as string;
      if (broken.some((b) => image.includes(b))) return;
      gated.push(image);
      applyNeverReady();
      kubelet.push(`start ${name}`);
      // Each Pod has its own network namespace: its own webhook port here.
      void freePort()
        .then((port) =>
          startCvmProcess('serve', { ...env, CVM_WEBHOOK_PORT: String(port) }, processes),
        )
        .then(async (p) => {
          running.set(name, p);
          p.proc.on('exit', (code, signal) => kubelet.push(`exit ${name} ${code ?? signal}`));
          if (deleted.has(name)) p.proc.kill('SIGTERM');
          else await markReady(name);
        });
    }
    if (event.type === 'DELETED' && !deleted.has(name)) {
      deleted.add(name);
      kubelet.push(`stop ${name}`);
      running.get(name)?.proc.kill('SIGTERM');
    }
  });
}

beforeAll(async () => {
  stack = await startCvmStack({
    workers: false,
    cvmKubeconfig: (emulator) => installCvmRbac(emulator, { namespace: NS, name: 'cvm' }),
  });
  env = {
    ...stack.env,
    CVM_LEASE_NAMESPACE: NS,
    CVM_LEASE_DURATION_SECONDS: '5',
    CVM_ROLLOUT_RECHECK_MS: '500',
  };
  stopKubelet = playKubelet();
}, 60_000);

afterAll(async () => {
  stopKubelet();
  for (const p of processes) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  await stack?.stop();
});

const imageOf = (d: any) =>
  d.spec.template.spec.containers.find((c: any) => c.name === 'api').image as string;

const podsOfCvm = () =>
  stack.emulator.store.list('pods', { namespace: NS, labelSelector: 'app=cvm' });

describe('cvm updating itself', () => {
  it('a new cvm image rolls out: the old process runs until the new Pod is Ready, then gets SIGTERM; the rollout is recorded once', async () => {
    await stack.apply([
      deployment(NS, 'cvm', 'example.com/bootstrap/cvm:0', {
        app: 'cvm',
        replicas: 1,
        // Longer than a cvm process takes to start (60 real s at timeScale 10): on a cluster too,
        // progressDeadlineSeconds must leave the new cvm time to become ready.
        progressDeadlineSeconds: 600,
      }),
    ]);
    const first = await waitFor(() => [...running.keys()][0], 'the first cvm process', {
      timeoutMs: 30_000,
    });
    await stack.apply([
      containerVersion(NS, 'cvm', {
        imageRepo: stack.repo,
        tag: 'cvm',
        versionPattern: '^sha-[0-9a-f]{7}$',
        selector: { app: 'cvm' },
        container: 'api',
        pollIntervalSeconds: 0,
      }),
    ]);
    const digest = stack.push(['sha-5e1f001', 'cvm']);
    const cv = await stack.rolloutOf(NS, 'cvm', digest, 60_000);
    expect(cv.status.lastRollout).toMatchObject({ result: 'Succeeded', version: 'sha-5e1f001' });
    expect(imageOf(await stack.deployment(NS, 'cvm'))).toBe(`${stack.repo}:sha-5e1f001@${digest}`);

    await waitFor(() => kubelet.includes(`exit ${first} 0`), 'the old cvm to exit', {
      timeoutMs: 30_000,
    });
    // The old process was stopped only once the new one was up and its Pod Ready.
    const second = kubelet.find((k) => k.startsWith('start ') && k !== `start ${first}`)!;
    const secondPod = second.slice('start '.length);
    expect(kubelet.indexOf(`ready ${secondPod}`)).toBeGreaterThan(kubelet.indexOf(second));
    expect(kubelet.indexOf(`ready ${secondPod}`)).toBeLessThan(kubelet.indexOf(`stop ${first}`));
    const pods = podsOfCvm();
    expect(pods.map((p) => p.spec.containers[0].image)).toEqual([
      `${stack.repo}:sha-5e1f001@${digest}`,
    ]);
    const successor = await waitFor(
      () => running.get(pods[0]!.metadata.name!),
      'the new cvm process to be up',
      { timeoutMs: 30_000 },
    );
    expect(successor.proc.exitCode).toBeNull();

    // Recorded once, even though two processes took part.
    await waitFor(
      async () => (await stack.pendingRollouts(NS, 'cvm')) === 0,
      'no rollout of cvm left pending',
    );
    expect((await stack.history(NS, 'cvm')).map((h) => [h.version, h.result])).toEqual([
      ['sha-5e1f001', 'Succeeded'],
    ]);
  }, 90_000);

  it('a new cvm image that never comes up is rolled back by the cvm still running', async () => {
    const survivor = podsOfCvm()[0]!.metadata.name!;
    const good = (await stack.containerVersion(NS, 'cvm')).status.currentImage as string;
    // A version that never comes up should be given up on quickly here (3 real s).
    const patched = await stack.kubectl([
      'patch',
      'deployment',
      'cvm',
      '-n',
      NS,
      '-p',
      '{"spec":{"progressDeadlineSeconds":30}}',
    ]);
    expect(patched.code).toBe(0);
    const bad = stack.push(['sha-5e1fbad'], { content: 'cvm-bad' });
    broken = [bad];
    applyNeverReady();
    stack.push(['cvm'], { content: 'cvm-bad' });
    const cv = await waitFor(
      async () => {
        const got = await stack.containerVersion(NS, 'cvm');
        return got.status?.lastRollout?.digest === bad &&
          got.status.lastRollout.result === 'RolledBack'
          ? got
          : undefined;
      },
      'the rollback of the bad cvm',
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    expect(cv.status.failedDigests).toContain(bad);
    await waitFor(
      async () => imageOf(await stack.deployment(NS, 'cvm')) === good,
      'the cvm Deployment back on the good image',
    );
    // The old Pod was never deleted: its process is the one that rolled back.
    expect(kubelet).not.toContain(`stop ${survivor}`);
    expect(running.get(survivor)?.proc.exitCode).toBeNull();
    expect((await stack.history(NS, 'cvm')).map((h) => [h.version, h.result])).toEqual([
      ['sha-5e1fbad', 'RolledBack'],
      ['sha-5e1f001', 'Succeeded'],
    ]);
    // All of it as the install's ServiceAccount, nothing forbidden.
    expect(stack.emulator.rbac.usage(NS, 'cvm').length).toBeGreaterThan(0);
    expect(stack.emulator.requests.filter((r) => r.status === 403 || r.status === 401)).toEqual([]);
  }, 90_000);
});
