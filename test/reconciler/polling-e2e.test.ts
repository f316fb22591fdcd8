import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { containerVersion, namespace, startCvmStack, type CvmStack } from '../support/cvm-stack.js';
import { waitFor } from '../support/wait-for.js';

// No webhooks from the registry and no workers: every manifest request the registry sees comes
// from the poller, counted in the registry's own access log.
let stack: CvmStack;

beforeAll(async () => {
  stack = await startCvmStack({
    workers: false,
    reconciler: true,
    notifications: false,
    env: { CVM_POLL_TICK_MS: '200', CVM_LEASE_DURATION_SECONDS: '5' },
  });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

const heads = (tag: string) =>
  stack.registry.requests(new RegExp(`^HEAD /v2/team/api/manifests/${tag}$`)).length;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const cvSpec = (tag: string) => ({
  imageRepo: stack.repo,
  tag,
  selector: { app: 'none' },
  container: 'api',
  pollIntervalSeconds: 2,
});

describe('polling (reconciler leader, docker-registry without notifications)', () => {
  it('while push events keep arriving the registry sees no poll; when they stop, polling resumes', async () => {
    stack.push(['busy']);
    await stack.apply([namespace('busy'), containerVersion('busy', 'api', cvSpec('busy'))]);
    await waitFor(() => heads('busy') >= 1, 'the first poll of a target never touched');
    await sleep(300);
    const before = heads('busy');
    for (let i = 0; i < 12; i += 1) {
      expect(await stack.postGeneric({ image: `${stack.repo}:busy` })).toBe(202);
      await sleep(500);
    }
    expect(heads('busy')).toBe(before); // 6 s, three intervals, of push events: zero polls
    await waitFor(() => heads('busy') > before, 'polling to resume once events stop', {
      timeoutMs: 10_000,
    });
  }, 60_000);

  it('1,000 CVs over 10 repo:tags cost one poll per repo:tag per interval', async () => {
    const tags = Array.from({ length: 10 }, (_, i) => `many-${i}`);
    for (const tag of tags) stack.push([tag]);
    await stack.apply([namespace('many')]);
    for (let i = 0; i < 1000; i += 1) {
      stack.emulator.store.create(
        'containerversions.cvm.dev',
        containerVersion('many', `cv-${i}`, cvSpec(tags[i % 10]!)),
      );
    }
    await waitFor(() => tags.every((t) => heads(t) >= 1), 'every repo:tag polled once', {
      timeoutMs: 20_000,
    });
    const start = tags.map(heads);
    await sleep(6_000); // three intervals
    const polls = tags.map((t, i) => heads(t) - start[i]!);
    expect(Math.max(...polls)).toBeLessThanOrEqual(4);
    expect(Math.min(...polls)).toBeGreaterThanOrEqual(2);
    expect(polls.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(40);
  }, 60_000);
});
