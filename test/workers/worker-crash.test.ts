import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  containerVersion,
  deployment,
  namespace,
  startCvmStack,
  type CvmStack,
} from '../support/cvm-stack.js';
import { startCvmProcess } from '../support/cvm-process.js';
import { waitFor } from '../support/wait-for.js';

let stack: CvmStack;
const processes: ChildProcess[] = [];

beforeAll(async () => {
  // Pods take 30 emulated s (3 real s) to become ready, so a rollout is still running when its worker dies.
  stack = await startCvmStack({
    workers: false,
    podReadySeconds: 30,
    env: { CVM_JOB_LOCK_MS: '2000', CVM_STALLED_CHECK_MS: '1000' },
  });
}, 60_000);

afterAll(async () => {
  for (const p of processes) if (p.exitCode === null) p.kill('SIGKILL');
  await stack?.stop();
});

const startWorker = () => startCvmProcess('worker', stack.env, processes);

async function kill(worker: { proc: ChildProcess }): Promise<void> {
  worker.proc.kill('SIGKILL');
  await once(worker.proc, 'exit');
}

describe('a worker killed in the middle of a rollout', () => {
  it('another worker takes the job over and finishes it, with one history entry', async () => {
    await stack.apply([
      namespace('crash'),
      deployment('crash', 'api', 'example.com/old/api:1', { replicas: 2 }),
    ]);
    await stack.apply([
      containerVersion('crash', 'api', {
        imageRepo: stack.repo,
        tag: 'crash',
        versionPattern: '^sha-[0-9a-f]{7}$',
        selector: { app: 'api' },
        container: 'api',
        pollIntervalSeconds: 0,
      }),
    ]);
    const first = await startWorker();
    const digest = stack.push(['sha-c000001', 'crash']);
    // The rollout started and patched the Deployment, and is waiting for its pods.
    await waitFor(
      async () =>
        (await stack.containerVersion('crash', 'api')).status?.lastRollout?.result ===
        'Progressing',
      'the rollout to start',
      { timeoutMs: 20_000 },
    );
    await waitFor(
      async () => JSON.stringify((await stack.deployment('crash', 'api')).spec).includes(digest),
      'the patch',
    );
    first.proc.kill('SIGKILL');
    await once(first.proc, 'exit');
    expect((await stack.containerVersion('crash', 'api')).status.lastRollout.result).toBe(
      'Progressing',
    );

    const second = await startWorker();
    const cv = await stack.rolloutOf('crash', 'api', digest, 60_000);
    expect(cv.status.lastRollout).toMatchObject({ result: 'Succeeded', version: 'sha-c000001' });
    expect(second.output()).toContain('resuming rollout');
    const history = await stack.history('crash', 'api');
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({ digest, result: 'Succeeded' });
    second.proc.kill('SIGTERM');
    const [code] = (await once(second.proc, 'exit')) as [number | null];
    expect(code).toBe(0);
  }, 120_000);
  it('20 CVs killed -9 mid-rollout while the tag moves on: each interrupted rollout is recorded, then the newer one runs', async () => {
    const namespaces = Array.from({ length: 20 }, (_, i) => `moved-${i}`);
    await stack.apply(
      namespaces.flatMap((ns) => [
        namespace(ns),
        deployment(ns, 'api', 'example.com/old/api:1', { app: 'moved' }),
        containerVersion(ns, 'api', {
          imageRepo: stack.repo,
          tag: 'moved',
          versionPattern: '^sha-[0-9a-f]{7}$',
          selector: { app: 'moved' },
          container: 'api',
          pollIntervalSeconds: 0,
        }),
      ]),
    );
    const first = await startWorker();
    const v1 = stack.push(['sha-9300001', 'moved']);
    await waitFor(
      async () => {
        const cvs = JSON.parse(
          (await stack.kubectl(['get', 'cv', '-A', '-o', 'json'])).stdout,
        ).items.filter((cv: any) => cv.metadata.namespace.startsWith('moved-'));
        return (
          cvs.filter((cv: any) => cv.status?.rollout?.phase === 'Waiting').length ===
          namespaces.length
        );
      },
      'every CV to be patched and waiting',
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    await kill(first);
    const v2 = stack.push(['sha-9300002', 'moved']);
    await startWorker();
    // Correctness, not speed: a step that failed under load may wait out a retry backoff.
    await waitFor(
      async () => {
        const cvs = JSON.parse((await stack.kubectl(['get', 'cv', '-A', '-o', 'json'])).stdout)
          .items as any[];
        return (
          cvs.filter(
            (cv) => cv.metadata.namespace.startsWith('moved-') && cv.status?.currentDigest === v2,
          ).length === namespaces.length
        );
      },
      'every CV to run the newer digest',
      { timeoutMs: 150_000, intervalMs: 500 },
    ).catch(async (error: unknown) => {
      const cvs = JSON.parse((await stack.kubectl(['get', 'cv', '-A', '-o', 'json'])).stdout)
        .items as any[];
      for (const cv of cvs.filter(
        (c) => c.status?.currentDigest !== v2 && c.metadata.namespace.startsWith('moved-'),
      ))
        console.error(
          cv.metadata.namespace,
          JSON.stringify(cv.status),
          await (await stack.rolloutJob(cv.metadata.namespace, 'api'))?.getState(),
        );
      throw error;
    });
    for (const ns of namespaces)
      expect(
        (await stack.history(ns, 'api')).map((h) => [h.digest, h.result]),
        ns,
      ).toEqual([
        [v2, 'Succeeded'],
        [v1, 'Succeeded'],
      ]);
  }, 240_000);
});
