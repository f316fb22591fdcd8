import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  containerVersion,
  deployment,
  namespace,
  startCvmStack,
  type CvmStack,
} from '../support/cvm-stack.js';
import { startCvmProcess, type CvmProcess } from '../support/cvm-process.js';
import { waitFor } from '../support/wait-for.js';
import type { StoreEvent } from '../kube-emulator/contract.js';

// kill -9 of the worker at every step of a BlueGreen rollout: `cvm worker` processes on the
// emulator, docker-registry and Redis; a fresh worker takes the job over after each kill.

let stack: CvmStack;
const processes: ChildProcess[] = [];

beforeAll(async () => {
  // Pods take 20 emulated s (2 real s) to become ready, so the waiting steps last.
  stack = await startCvmStack({
    workers: false,
    podReadySeconds: 20,
    env: {
      CVM_JOB_LOCK_MS: '2000',
      CVM_STALLED_CHECK_MS: '1000',
      CVM_ROLLOUT_RECHECK_MS: '1000',
    },
  });
}, 60_000);

afterAll(async () => {
  for (const p of processes) if (p.exitCode === null) p.kill('SIGKILL');
  await stack?.stop();
});

const COLOR = 'cvm.dev/color';
const service = (name: string) => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: 'bg-crash' },
  spec: { selector: { app: 'web', [COLOR]: 'blue' }, ports: [{ port: 80 }] },
});

async function get(kind: string, name: string): Promise<any> {
  return JSON.parse(
    (await stack.kubectl(['get', kind, name, '-n', 'bg-crash', '-o', 'json'])).stdout,
  );
}

describe('a BlueGreen rollout whose worker is killed at every step', () => {
  it('ends consistent: traffic on the new colour, the old one scaled down, one history entry, no Job left', async () => {
    await stack.apply([
      namespace('bg-crash'),
      deployment('bg-crash', 'web-blue', 'example.com/old/web:1', {
        app: 'web',
        replicas: 2,
        labels: { [COLOR]: 'blue' },
      }),
      deployment('bg-crash', 'web-green', 'example.com/old/web:0', {
        app: 'web',
        replicas: 0,
        labels: { [COLOR]: 'green' },
      }),
      service('web'),
      service('web-preview'),
    ]);
    await stack.apply([
      containerVersion('bg-crash', 'web', {
        imageRepo: stack.repo,
        tag: 'bg-crash',
        versionPattern: '^sha-[0-9a-f]{7}$',
        selector: { app: 'web' },
        container: 'api',
        pollIntervalSeconds: 0,
        strategy: {
          type: 'BlueGreen',
          blueGreen: {
            activeService: 'web',
            previewService: 'web-preview',
            scaleDownDelaySeconds: 3,
          },
        },
        verify: [
          { name: 'before', command: ['true'], timeoutSeconds: 120 },
          { name: 'after', command: ['true'], timeoutSeconds: 120, when: 'PostPromotion' },
        ],
      }),
    ]);
    let worker: CvmProcess = await startCvmProcess('worker', stack.env, processes);
    // The moment the API server stores a new step of the rollout, its worker is killed.
    const killedAt: string[] = [];
    const off = stack.emulator.store.subscribe((event: StoreEvent) => {
      const o = event.object as any;
      if (o.metadata?.namespace !== 'bg-crash') return;
      // The history entry is written, the status that ends the rollout not yet.
      if (event.resource.startsWith('configmaps') && o.metadata.name === 'web-history') {
        if (killedAt.includes('history written')) return;
        killedAt.push('history written');
        worker.proc.kill('SIGKILL');
        return;
      }
      if (!event.resource.startsWith('containerversions')) return;
      const r = o.status?.rollout;
      const step = r && `${r.step} ${r.phase}${r.blueGreen?.switchedAt ? ' after switch' : ''}`;
      if (!step || killedAt.includes(step)) return;
      killedAt.push(step);
      worker.proc.kill('SIGKILL');
    });
    const digest = stack.push(['sha-c0ffee1', 'bg-crash']);
    let cv: any;
    try {
      await waitFor(
        async () => {
          if (worker.proc.exitCode !== null || worker.proc.signalCode !== null)
            worker = await startCvmProcess('worker', stack.env, processes);
          cv = await stack.containerVersion('bg-crash', 'web');
          const last = cv.status?.lastRollout;
          return last?.digest === digest && last.result !== 'Progressing';
        },
        'the rollout to end',
        { timeoutMs: 150_000, intervalMs: 100 },
      );
    } finally {
      off();
    }
    // Killed once in every step, from the patch of the new colour to the record (whose phase is
    // written with the end of the rollout, so the kill is between the history entry and it).
    expect(killedAt).toEqual([
      '1 Patching',
      '1 Waiting',
      '2 Switching',
      '3 Verifying',
      '4 Switching',
      '5 Verifying after switch',
      '6 ScalingDown after switch',
      'history written',
    ]);
    expect(cv.status.lastRollout).toMatchObject({ result: 'Succeeded', version: 'sha-c0ffee1' });
    expect(cv.status.currentDigest).toBe(digest);
    expect(cv.status.rollout).toBeUndefined();
    expect((await get('service', 'web')).spec.selector[COLOR]).toBe('green');
    expect((await get('service', 'web-preview')).spec.selector[COLOR]).toBe('green');
    const green = await get('deployment', 'web-green');
    expect(green.spec.template.spec.containers[0].image).toBe(
      `${stack.repo}:sha-c0ffee1@${digest}`,
    );
    expect(green.spec.replicas).toBe(2);
    expect(green.status.readyReplicas).toBe(2);
    expect((await get('deployment', 'web-blue')).spec.replicas).toBe(0);
    const history = await stack.history('bg-crash', 'web');
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({ digest, result: 'Succeeded' });
    await waitFor(
      async () =>
        JSON.parse((await stack.kubectl(['get', 'jobs', '-n', 'bg-crash', '-o', 'json'])).stdout)
          .items.length === 0,
      'the verify Jobs to be deleted',
    );
    expect(await stack.pendingRollouts('bg-crash', 'web')).toBe(0);
  }, 180_000);
});
