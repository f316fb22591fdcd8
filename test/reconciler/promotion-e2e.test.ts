import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKubeAdapters } from '../../src/kube/kube-adapters.js';
import { promotionDue } from '../../src/reconciler/promotion-decision.js';
import { OciRegistryClient } from '../../src/registry/oci-registry-client.js';
import { createLogger } from '../../src/observability/logger.js';
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
  stack = await startCvmStack({
    reconciler: true,
    env: { CVM_LEASE_DURATION_SECONDS: '5', CVM_RECHECK_SECONDS: '1' },
  });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

const SOAK_SECONDS = 2;
const spec = (tag: string, extra: Record<string, unknown> = {}) => ({
  imageRepo: stack.repo,
  tag,
  versionPattern: '^sha-',
  selector: { app: 'api' },
  container: 'api',
  pollIntervalSeconds: 0,
  ...extra,
});
const imageOf = (d: any) =>
  d.spec.template.spec.containers.find((c: any) => c.name === 'api').image;
const prodDigest = async () =>
  (
    await new OciRegistryClient().resolveTag(
      { registry: stack.registry.host, repository: 'team/api' },
      'prod',
    )
  )?.digest;
const promotedEvents = async (ns: string) =>
  (
    JSON.parse((await stack.kubectl(['get', 'events', '-n', ns, '-o', 'json'])).stdout)
      .items as any[]
  ).filter((e) => e.reason === 'Promoted');
const prodPuts = () => stack.registry.requests(/^PUT \/v2\/team\/api\/manifests\/prod$/).length;

describe('promotion between environments (staging → prod through the registry)', () => {
  it('a staging CV promotes its digest to prod after the soak; the prod CV gets the push event and rolls it out; a retry writes nothing', async () => {
    await stack.apply([
      namespace('staging'),
      namespace('prod'),
      // 20 emulated seconds: a bad image fails in 2 s.
      deployment('staging', 'api', 'example.com/old/api:1', { progressDeadlineSeconds: 20 }),
      deployment('prod', 'api', 'example.com/old/api:1'),
      containerVersion(
        'staging',
        'api',
        spec('staging', {
          promotion: { tag: 'prod', afterSeconds: SOAK_SECONDS },
        }),
      ),
      containerVersion('prod', 'api', spec('prod')),
    ]);
    const digest = stack.push(['sha-aaaaaaa', 'staging']);
    const staged = await stack.rolloutOf('staging', 'api', digest);
    expect(staged.status.lastRollout.result).toBe('Succeeded');

    const prod = await stack.rolloutOf('prod', 'api', digest, 40_000);
    expect(prod.status).toMatchObject({ currentDigest: digest, currentVersion: 'sha-aaaaaaa' });
    expect(imageOf(await stack.deployment('prod', 'api'))).toBe(
      `${stack.repo}:sha-aaaaaaa@${digest}`,
    );
    expect(await prodDigest()).toBe(digest);

    const cv = await stack.containerVersion('staging', 'api');
    expect(cv.status.lastPromotion).toMatchObject({
      tag: 'prod',
      digest,
      version: 'sha-aaaaaaa',
      result: 'Promoted',
    });
    const soakedMs =
      Date.parse(cv.status.lastPromotion.at) - Date.parse(cv.status.lastRollout.finishedAt);
    expect(soakedMs).toBeGreaterThanOrEqual(SOAK_SECONDS * 1000);
    const history = await stack.history('staging', 'api');
    expect(history.filter((e) => e.result === 'Promoted')).toEqual([
      expect.objectContaining({
        digest,
        trigger: 'promotion',
        image: `${stack.repo}:prod@${digest}`,
        promotion: { tag: 'prod' },
        workloads: [],
      }),
    ]);
    expect(await promotedEvents('staging')).toHaveLength(1);
    expect(prodPuts()).toBe(1);

    // A promotion whose status write was lost (a crash after the PUT) runs again: the tag is in
    // place, so nothing is written to the registry, no second Event, one history entry.
    const kube = createKubeAdapters({
      kubeconfigPath: stack.emulator.kubeconfigPath,
      logger: createLogger({ level: 'silent' }),
    });
    await kube.store.patchStatus(
      { namespace: 'staging', name: 'api' },
      { lastPromotion: null as unknown as undefined },
    );
    const retried = await waitFor(async () => {
      const again = await stack.containerVersion('staging', 'api');
      return again.status.lastPromotion?.result === 'AlreadyThere' ? again : undefined;
    }, 'the retried promotion');
    expect(retried.status.lastPromotion).toMatchObject({ tag: 'prod', digest });
    expect(prodPuts()).toBe(1);
    expect(await promotedEvents('staging')).toHaveLength(1);
    expect(
      (await stack.history('staging', 'api')).filter((e) => e.result === 'Promoted'),
    ).toHaveLength(1);
  }, 90_000);

  it('a failed staging rollout (rolled back) promotes nothing', async () => {
    const before = await prodDigest();
    expect(before).toBeDefined();
    const bad = stack.push(['sha-bbbbbbb'], { content: 'bad' });
    stack.emulator.setNeverReady([bad]);
    stack.push(['staging'], { content: 'bad' });
    const failed = await waitFor(
      async () => {
        const cv = await stack.containerVersion('staging', 'api');
        return cv.status?.lastRollout?.digest === bad &&
          cv.status.lastRollout.result === 'RolledBack'
          ? cv
          : undefined;
      },
      'the rollback of the bad digest in staging',
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    // However long it soaks, the rolled-back digest is never due.
    expect(promotionDue(failed, new Date(Date.now() + 86_400_000))).toEqual({
      action: 'none',
      reason: 'NoSuccessfulRollout',
    });
    // Longer than the soak: prod stays where it was.
    await new Promise((r) => setTimeout(r, (SOAK_SECONDS + 1) * 1000));
    expect(await prodDigest()).toBe(before);
    const cv = await stack.containerVersion('staging', 'api');
    expect(cv.status.lastPromotion.digest).toBe(before);
    expect(cv.status.failedDigests).toContain(bad);
  }, 90_000);
});
