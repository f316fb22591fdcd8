import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebhookBodySchema } from '../../src/notify/notification.js';
import { signBody } from '../../src/notify/notification-delivery.js';
import {
  containerVersion,
  deployment,
  namespace,
  startCvmStack,
  type CvmStack,
} from '../support/cvm-stack.js';
import { startNotifySink, type NotifySink, type SinkRequest } from '../support/notify-sink.js';
import { waitFor } from '../support/wait-for.js';

const SECRET = 'notify-e2e-secret-0123456789';
const DASHBOARD = 'https://cvm.example.test';
let stack: CvmStack;
let slack: NotifySink;
let hook: NotifySink;
let teams: NotifySink;

beforeAll(async () => {
  [slack, hook, teams] = await Promise.all([
    startNotifySink(),
    startNotifySink(),
    startNotifySink(),
  ]);
  stack = await startCvmStack({
    notify: true,
    env: {
      CVM_NOTIFY_SLACK_URL: slack.url,
      CVM_NOTIFY_TEAMS_URL: teams.url,
      CVM_NOTIFY_WEBHOOK_URL: hook.url,
      CVM_NOTIFY_WEBHOOK_SECRET: SECRET,
      CVM_NOTIFY_TIMEOUT_MS: '1500',
      CVM_NOTIFY_BACKOFF_MS: '100',
      CVM_NOTIFY_ATTEMPTS: '40',
      CVM_DASHBOARD_URL: DASHBOARD,
    },
  });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  await Promise.all([slack?.stop(), hook?.stop(), teams?.stop()]);
});

const cvSpec = (app: string, extra: Record<string, unknown> = {}) => ({
  imageRepo: stack.repo,
  tag: app,
  versionPattern: '^sha-[0-9a-f]{7}$',
  selector: { app },
  container: 'api',
  pollIntervalSeconds: 0,
  ...extra,
});

async function setUp(ns: string, extra: Record<string, unknown> = {}, deadline?: number) {
  await stack.apply([
    namespace(ns),
    deployment(ns, 'api', 'example.com/old/api:1', {
      app: ns,
      ...(deadline ? { progressDeadlineSeconds: deadline } : {}),
    }),
    containerVersion(ns, 'api', cvSpec(ns, extra)),
  ]);
}

/** The generic webhook's deliveries (answered 200) for one CV, as [event, digest]. */
const hookEvents = (ns: string) =>
  hook
    .delivered()
    .filter((r) => r.body?.containerVersion?.namespace === ns)
    .map((r) => [r.body.event, r.body.digest] as const);
/** Slack's deliveries for one CV, by the headline. */
const slackTexts = (ns: string) =>
  slack
    .delivered()
    .map((r) => r.body?.text as string)
    .filter((t) => t.includes(` ${ns}/api `));

/** Every notification job has ended (none waiting, active or delayed). */
const drained = () =>
  waitFor(
    async () => {
      const c = await stack.notificationJobCounts();
      return (c.wait ?? 0) + (c.active ?? 0) + (c.delayed ?? 0) === 0;
    },
    'the notifications queue to drain',
    { timeoutMs: 20_000, intervalMs: 100 },
  );

function verifies(request: SinkRequest): void {
  expect(request.headers['x-cvm-signature-256']).toBe(signBody(SECRET, request.raw));
  const body = WebhookBodySchema.parse(request.body);
  expect(request.headers['x-cvm-delivery']).toBe(body.id);
  expect(request.headers['x-cvm-event']).toBe(body.event);
  const sentAt = Number(request.headers['x-cvm-timestamp']) * 1000;
  expect(Math.abs(sentAt - Date.parse(body.sentAt))).toBeLessThan(1_000);
  expect(body.dashboardUrl).toBe(
    `${DASHBOARD}/#/cv/${body.containerVersion.namespace}/${body.containerVersion.name}`,
  );
}

describe('notifications through their own queue (emulator, docker-registry, Redis, local sinks)', () => {
  it('a push notifies rollout started and succeeded once each, to Slack, Teams and the signed webhook', async () => {
    await setUp('n-push');
    const digest = stack.push(['sha-a000001', 'n-push']);
    await stack.rolloutOf('n-push', 'api', digest);
    await waitFor(
      () => hookEvents('n-push').length >= 2 && slackTexts('n-push').length >= 2,
      'both sinks to get started and succeeded',
    );
    // The same push again runs the rollout job again: nothing new to say.
    expect(await stack.postGeneric({ image: `${stack.repo}:n-push`, digest, id: 'again' })).toBe(
      202,
    );
    await waitFor(async () => (await stack.pendingRollouts('n-push', 'api')) === 0, 'the rerun');
    await drained();
    expect(hookEvents('n-push')).toEqual([
      ['started', digest],
      ['succeeded', digest],
    ]);
    expect(slackTexts('n-push')).toEqual([
      `Rollout started: n-push/api sha-a000001 (${digest})`,
      `Rollout succeeded: n-push/api sha-a000001 (${digest})`,
    ]);
    for (const r of hook
      .delivered()
      .filter((x) => x.body?.containerVersion?.namespace === 'n-push'))
      verifies(r);
    const succeeded = hook.delivered().find((r) => r.body?.event === 'succeeded')!.body;
    expect(succeeded).toMatchObject({
      version: 'sha-a000001',
      image: `${stack.repo}:sha-a000001@${digest}`,
      previousImage: 'example.com/old/api:1',
      reason: 'RolloutSucceeded',
      trigger: 'push',
      strategy: 'Rolling',
    });
    const slackBody = slack.delivered().find((r) => r.body?.text?.includes('n-push/api'))!.body;
    expect(JSON.stringify(slackBody.blocks)).toContain(`<${DASHBOARD}/#/cv/n-push/api|`);
    const cards = teams
      .delivered()
      .filter((r) => r.body?.summary?.includes(' n-push/api '))
      .map((r) => r.body.attachments[0]);
    expect(cards.map((a) => a.content.body[0].text)).toEqual([
      'Rollout started: n-push/api',
      'Rollout succeeded: n-push/api',
    ]);
    expect(cards[1]).toMatchObject({
      contentType: 'application/vnd.microsoft.card.adaptive',
      content: {
        type: 'AdaptiveCard',
        actions: [{ type: 'Action.OpenUrl', url: `${DASHBOARD}/#/cv/n-push/api` }],
      },
    });
    const metrics = await stack.metrics.registry.metrics();
    expect(metrics).toMatch(/cvm_notifications_total\{sink="webhook",result="delivered"\} [1-9]/);
  }, 60_000);

  it('a bad image notifies failed and rolled back; pushed again it is blocked, once; spec.notify keeps Slack and started/succeeded out', async () => {
    await setUp(
      'n-bad',
      { notify: { sinks: ['webhook'], events: ['failed', 'rolled-back', 'blocked'] } },
      20,
    );
    const good = stack.push(['sha-b000001', 'n-bad']);
    await stack.rolloutOf('n-bad', 'api', good);
    const bad = stack.push(['sha-b000002'], { content: 'n-bad-bad' });
    stack.emulator.setNeverReady([bad]);
    stack.push(['n-bad'], { content: 'n-bad-bad' });
    await waitFor(
      async () =>
        (await stack.containerVersion('n-bad', 'api')).status?.lastRollout?.result === 'RolledBack',
      'the rollback',
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    await waitFor(() => hookEvents('n-bad').length >= 2, 'failed and rolled-back');
    // The known-bad digest pushed three more times (distinct events, each runs the CV's job):
    // blocked, told once.
    for (const id of ['bad-again-1', 'bad-again-2', 'bad-again-3']) {
      const before = (await stack.rolloutJobCounts()).completed ?? 0;
      expect(await stack.postGeneric({ image: `${stack.repo}:n-bad`, digest: bad, id })).toBe(202);
      await waitFor(
        async () => ((await stack.rolloutJobCounts()).completed ?? 0) > before,
        `the job for ${id}`,
      );
    }
    await drained();
    expect(hookEvents('n-bad')).toEqual([
      ['failed', bad],
      ['rolled-back', bad],
      ['blocked', bad],
    ]);
    const [failed, rolledBack, blocked] = hook
      .delivered()
      .filter((r) => r.body?.containerVersion?.namespace === 'n-bad')
      .map((r) => r.body);
    expect(failed).toMatchObject({ reason: 'ProgressDeadlineExceeded', version: 'sha-b000002' });
    expect(rolledBack).toMatchObject({ reason: 'RolledBack' });
    expect(blocked).toMatchObject({
      reason: 'KnownBadDigest',
      message: expect.stringContaining('not rolled out again'),
    });
    expect(slackTexts('n-bad')).toEqual([]);
    expect(teams.requests.filter((r) => r.body?.summary?.includes(' n-bad/api '))).toEqual([]);
  }, 90_000);

  it('an image a check refuses is blocked, with the reason', async () => {
    await setUp('n-refused', { notify: { events: ['blocked'] } });
    const digest = stack.push(['sha-c000001', 'n-refused'], { architecture: 'arm64' });
    await stack.rolloutOf('n-refused', 'api', digest);
    await waitFor(
      () => hookEvents('n-refused').length >= 1 && slackTexts('n-refused').length >= 1,
      'blocked',
    );
    await drained();
    expect(hookEvents('n-refused')).toEqual([['blocked', digest]]);
    expect(slackTexts('n-refused')).toEqual([
      `Rollout blocked: n-refused/api sha-c000001 (${digest})`,
    ]);
    const body = hook.delivered().find((r) => r.body?.containerVersion?.namespace === 'n-refused')!;
    verifies(body);
    expect(body.body).toMatchObject({
      reason: 'PlatformMissing',
      message: expect.stringContaining('linux/amd64'),
    });
  }, 60_000);

  it('while a sink answers 500 the delivery is retried with the same id, and it arrives once the sink is back', async () => {
    await setUp('n-retry', { notify: { events: ['started'] } });
    slack.state.failNext = 3;
    hook.state.failNext = 3;
    const digest = stack.push(['sha-d000001', 'n-retry']);
    await stack.rolloutOf('n-retry', 'api', digest);
    await waitFor(
      () => hookEvents('n-retry').length >= 1 && slackTexts('n-retry').length >= 1,
      'the retried deliveries',
    );
    await drained();
    const attempts = hook.requests.filter((r) => r.body?.containerVersion?.namespace === 'n-retry');
    expect(attempts.map((r) => r.answer)).toEqual([500, 500, 500, 200]);
    expect(new Set(attempts.map((r) => r.headers['x-cvm-delivery'])).size).toBe(1);
    for (const r of attempts) verifies(r);
    expect(hookEvents('n-retry')).toEqual([['started', digest]]);
    expect(
      slack.requests.filter((r) => r.body?.text?.includes(' n-retry/api ')).map((r) => r.answer),
    ).toEqual([500, 500, 500, 200]);
  }, 60_000);

  it('a sink that hangs does not delay the rollout: it is Ready while the sink hangs, and the notifications arrive after', async () => {
    await setUp('n-hang');
    hook.state.hang = true;
    const digest = stack.push(['sha-e000001', 'n-hang']);
    const cv = await stack.rolloutOf('n-hang', 'api', digest, 20_000);
    expect(cv.status.conditions.find((c: any) => c.type === 'Ready')).toMatchObject({
      status: 'True',
    });
    // The sink got the started notification (and hangs on it) before the rollout ended.
    const hungRequests = hook.requests.filter(
      (r) => r.body?.containerVersion?.namespace === 'n-hang',
    );
    expect(hungRequests.length).toBeGreaterThan(0);
    expect(hungRequests.every((r) => r.answer === 'hung')).toBe(true);
    expect(hookEvents('n-hang')).toEqual([]);
    hook.release();
    await waitFor(() => hookEvents('n-hang').length >= 2, 'the deliveries after the sink is back');
    await drained();
    // Retried deliveries are independent jobs: after an outage they may arrive in any order
    // (receivers order by occurredAt).
    expect([...hookEvents('n-hang')].sort()).toEqual([
      ['started', digest],
      ['succeeded', digest],
    ]);
    expect(slackTexts('n-hang')).toHaveLength(2);
  }, 60_000);
});
