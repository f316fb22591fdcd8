import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  containerVersion,
  deployment,
  namespace,
  startCvmStack,
  type CvmStack,
} from '../support/cvm-stack.js';
import { waitFor } from '../support/wait-for.js';

let stack: CvmStack;

beforeAll(async () => {
  stack = await startCvmStack({ notifications: false });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

const progressing = (cv: any) =>
  cv.status?.conditions?.find((c: { type: string }) => c.type === 'Progressing');

describe('a push that waits out a registry outage', () => {
  it('the CV says RegistryUnavailable while the registry is down, and rolls out once it is back', async () => {
    await stack.apply([
      namespace('outage'),
      deployment('outage', 'api', 'example.com/old/api:1'),
      containerVersion('outage', 'api', {
        imageRepo: stack.repo,
        tag: 'prod',
        versionPattern: '^sha-[0-9a-f]{7}$',
        selector: { app: 'api' },
        container: 'api',
        pollIntervalSeconds: 0,
      }),
    ]);
    const first = stack.push(['sha-1000001', 'prod']);
    expect(await stack.postGeneric({ image: `${stack.repo}:prod`, digest: first })).toBe(202);
    await stack.rolloutOf('outage', 'api', first);

    const second = stack.push(['sha-1000002', 'prod']);
    await stack.registry.stop();
    expect(await stack.postGeneric({ image: `${stack.repo}:prod`, digest: second })).toBe(202);
    const waiting = await waitFor(
      async () => {
        const cv = await stack.containerVersion('outage', 'api');
        return progressing(cv)?.reason === 'RegistryUnavailable' ? cv : undefined;
      },
      'Progressing=Unknown RegistryUnavailable on the CV',
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    expect(progressing(waiting)).toMatchObject({ status: 'Unknown' });
    expect(progressing(waiting).message).toMatch(/^the registry is unavailable; the rollout waits/);
    expect(waiting.status.currentDigest).toBe(first);

    await stack.registry.resume();
    const done = await stack.rolloutOf('outage', 'api', second, 60_000);
    expect(done.status.lastRollout.result).toBe('Succeeded');
    expect(progressing(done).reason).not.toBe('RegistryUnavailable');
    expect(await stack.history('outage', 'api')).toHaveLength(2);
  }, 120_000);
});
