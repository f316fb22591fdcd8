import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import type { PushSource } from '../../src/events/push-event.js';
import { webhookSources } from '../../src/receiver/sources.js';
import { createWebhookApp } from '../../src/receiver/webhook-app.js';
import { freePort } from '../support/redis-server.js';
import { MACHINE_REDIS_URL, receiverParts } from '../support/receiver-parts.js';
import { waitFor } from '../support/wait-for.js';

const S1 = 'first-secret-0123456789';
const S2 = 'second-secret-0123456789';
const config = loadConfig({
  CVM_ECR_API_KEYS: `${S1},${S2}`,
  CVM_DOCKERHUB_TOKENS: S1,
  CVM_QUAY_TOKENS: S1,
  CVM_GHCR_SECRETS: `${S1},${S2}`,
  CVM_HARBOR_TOKENS: S1,
  CVM_ACR_TOKENS: S1,
  CVM_GAR_TOKENS: S1,
  CVM_DISTRIBUTION_TOKENS: S1,
  CVM_GENERIC_SECRETS: S1,
  CVM_WEBHOOK_BODY_LIMIT_BYTES: '4096',
});

const fixture = (source: string, name: string) =>
  readFileSync(new URL(`../events/fixtures/${source}/${name}.json`, import.meta.url), 'utf8');
const sign = (body: string, secret: string) =>
  `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

interface SourceCase {
  source: PushSource;
  path: (secret: string) => string;
  headers: (body: string, secret: string) => Record<string, string>;
  accepted: { fixture: string; image: string; extraHeaders?: Record<string, string> };
  ignored: { fixture: string; reason: RegExp; extraHeaders?: Record<string, string> };
  malformed: { body: string; field: string };
  contentType?: string;
}

const json = { 'content-type': 'application/json' };
const cases: SourceCase[] = [
  {
    source: 'ecr',
    path: () => '/webhooks/ecr',
    headers: (_b, secret) => ({ ...json, 'x-api-key': secret }),
    accepted: {
      fixture: 'multiarch-index-tagged',
      image: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/api:1.4.2',
    },
    ignored: { fixture: 'delete-documented', reason: /delete/i },
    malformed: {
      body: '{"version":"0","detail-type":"ECR Image Action","source":"aws.ecr","id":"x","region":"us-east-1","account":"123456789012","detail":{"action-type":"PUSH","result":"SUCCESS","image-tag":"a"}}',
      field: 'detail.repository-name',
    },
  },
  {
    source: 'dockerhub',
    path: (secret) => `/webhooks/dockerhub/${secret}`,
    headers: () => json,
    accepted: { fixture: 'org-repo', image: 'docker.io/acme/api:1.4.2' },
    ignored: { fixture: 'org-repo', reason: /.*/ }, // replaced below: Docker Hub has nothing to ignore
    malformed: { body: '{"push_data":{"tag":"1"},"repository":{}}', field: 'repository.repo_name' },
  },
  {
    source: 'quay',
    path: (secret) => `/webhooks/quay/${secret}`,
    headers: () => json,
    accepted: { fixture: 'documented', image: 'quay.io/dgangaia/test:latest' },
    ignored: { fixture: 'empty-tags', reason: /tag/i },
    malformed: { body: '{"updated_tags":["a"]}', field: 'docker_url' },
  },
  {
    source: 'ghcr',
    path: () => '/webhooks/ghcr',
    headers: (body, secret) => ({
      ...json,
      'x-hub-signature-256': sign(body, secret),
      'x-github-delivery': 'd-1',
    }),
    accepted: {
      fixture: 'package-published',
      image: 'ghcr.io/acme/api:1.4.2',
      extraHeaders: { 'x-github-event': 'package' },
    },
    ignored: { fixture: 'ping', reason: /ping/i, extraHeaders: { 'x-github-event': 'ping' } },
    malformed: { body: '{"action":"published"}', field: 'package' },
  },
  {
    source: 'harbor',
    path: () => '/webhooks/harbor',
    headers: (_b, secret) => ({ ...json, authorization: `Bearer ${secret}` }),
    accepted: { fixture: 'cloudevents-two-tags', image: '' },
    ignored: { fixture: 'default-pull', reason: /PULL_ARTIFACT|pull/i },
    malformed: {
      body: '{"type":"PUSH_ARTIFACT","occur_at":1,"event_data":{}}',
      field: 'event_data',
    },
  },
  {
    source: 'acr',
    path: () => '/webhooks/acr',
    headers: (_b, secret) => ({ ...json, authorization: `Bearer ${secret}` }),
    accepted: { fixture: 'push-documented', image: 'myregistry.azurecr.io/hello-world:v1' },
    ignored: { fixture: 'ping', reason: /ping/i },
    malformed: {
      body: '{"id":"1","action":"push","target":{"tag":"v1"},"request":{"host":"r.azurecr.io"}}',
      field: 'target.',
    },
  },
  {
    source: 'gar',
    path: (secret) => `/webhooks/gar/${secret}`,
    headers: () => json,
    accepted: {
      fixture: 'insert-documented',
      image: 'us-east1-docker.pkg.dev/my-project/my-repo/hello-world:1.1',
    },
    ignored: { fixture: 'delete-tag', reason: /delete/i },
    malformed: {
      body: '{"message":{"data":"!!!not base64!!!","messageId":"1"}}',
      field: 'message.data',
    },
  },
  {
    source: 'distribution',
    path: () => '/webhooks/distribution',
    headers: (_b, secret) => ({
      'content-type': 'application/vnd.docker.distribution.events.v2+json',
      authorization: `Bearer ${secret}`,
    }),
    accepted: { fixture: 'image-push-with-blobs', image: 'registry.example.com/team/api:1.4.2' },
    ignored: { fixture: 'pull', reason: /pull/i },
    malformed: { body: '{"events":[{"id":"1","action":"push"}]}', field: 'events[0]' },
  },
  {
    source: 'generic',
    path: () => '/webhooks/generic',
    headers: (body, secret) => ({ ...json, 'x-cvm-signature-256': sign(body, secret) }),
    accepted: { fixture: 'tag-and-digest', image: '' },
    ignored: { fixture: 'tag-and-digest', reason: /.*/ },
    malformed: { body: '{"image":"Not A Ref"}', field: 'image' },
  },
];

let parts: Awaited<ReturnType<typeof receiverParts>>;
let app: ReturnType<typeof createWebhookApp>;

beforeAll(async () => {
  parts = await receiverParts();
  app = createWebhookApp({
    sources: webhookSources(config),
    ingest: parts.ingest,
    metrics: parts.metrics,
    bodyLimitBytes: config.webhookBodyLimitBytes,
  });
});
afterEach(async () => {
  await parts.queue.queue.obliterate({ force: true });
});
afterAll(async () => {
  await parts.close();
});

const post = (c: SourceCase, body: string, secret = S1, extra: Record<string, string> = {}) =>
  request(app)
    .post(c.path(secret))
    .set({ ...c.headers(body, secret), ...extra })
    .send(body);

describe.each(cases)('POST /webhooks/$source', (c) => {
  const accepted = () => fixture(c.source, c.accepted.fixture);

  it('accepts a push: 202 with the ids of the enqueued jobs, which hold the event', async () => {
    const body = accepted();
    const response = await post(c, body, S1, c.accepted.extraHeaders);
    expect(response.status).toBe(202);
    expect(response.body.enqueued.length).toBeGreaterThan(0);
    const jobs = await parts.jobs();
    expect(jobs.map((j) => j.id).sort()).toEqual(
      response.body.enqueued.map((e: { id: string }) => e.id).sort(),
    );
    for (const job of jobs) expect(job.data.source).toBe(c.source);
    if (c.accepted.image)
      expect(response.body.enqueued.map((e: { image: string }) => e.image)).toContain(
        c.accepted.image,
      );
  });

  it('the same delivery twice makes one job (by its id, or while the first job waits)', async () => {
    const body = accepted();
    const first = await post(c, body, S1, c.accepted.extraHeaders);
    const second = await post(c, body, S1, c.accepted.extraHeaders);
    expect(second.status).toBe(202);
    expect(second.body.enqueued).toEqual([]);
    expect(second.body.duplicates.map((d: { id: string }) => d.id).sort()).toEqual(
      first.body.enqueued.map((e: { id: string }) => e.id).sort(),
    );
    expect(await parts.jobs()).toHaveLength(first.body.enqueued.length);
  });

  it('a rotated second secret works as well as the first', async () => {
    if (!['ecr', 'ghcr'].includes(c.source)) return expect(config.ecrApiKeys).toHaveLength(2);
    const response = await post(c, accepted(), S2, c.accepted.extraHeaders);
    expect(response.status).toBe(202);
  });

  it('answers 401 without detail for a wrong or missing secret, and enqueues nothing', async () => {
    const body = accepted();
    const wrong = await post(c, body, 'wrong-secret-0123456789', c.accepted.extraHeaders);
    expect(wrong.status).toBe(c.path('x').endsWith('/x') ? 401 : 401);
    expect(wrong.body).toEqual({ error: 'unauthorized' });
    expect(await parts.jobs()).toHaveLength(0);
  });

  it('answers 400 naming the field for a malformed event, and enqueues nothing', async () => {
    const response = await post(c, c.malformed.body, S1, c.accepted.extraHeaders);
    expect(response.status).toBe(400);
    expect(response.body.error).toContain(c.malformed.field);
    expect(await parts.jobs()).toHaveLength(0);
  });

  it('answers 400 for a body that is not JSON', async () => {
    const response = await post(c, '{"truncated": ', S1, c.accepted.extraHeaders);
    expect(response.status).toBe(400);
    expect(response.body.error).toMatch(/^body: invalid JSON/);
  });
});

describe.each(cases.filter((c) => !['dockerhub', 'generic'].includes(c.source)))(
  'POST /webhooks/$source, not deployable',
  (c) => {
    it('is acknowledged with 202 and a reason, and enqueues nothing', async () => {
      const response = await post(
        c,
        fixture(c.source, c.ignored.fixture),
        S1,
        c.ignored.extraHeaders,
      );
      expect(response.status).toBe(202);
      expect(response.body.enqueued).toEqual([]);
      expect(response.body.ignored.join(' ')).toMatch(c.ignored.reason);
      expect(await parts.jobs()).toHaveLength(0);
    });
  },
);

describe('webhook receiver', () => {
  const generic = cases.find((c) => c.source === 'generic')!;
  const distribution = cases.find((c) => c.source === 'distribution')!;

  it('the same image from two sources while the first job waits makes one job', async () => {
    const digest = 'sha256:1bc04b5291c26a46d918139138b992d2de976d6851d0893b0476b85bfbdfc6e6';
    const first = await post(distribution, fixture('distribution', 'manifest-push-documented'));
    expect(first.body.enqueued).toHaveLength(1);
    const body = JSON.stringify({
      image: 'registry.example.com/team/api:1.4.2',
      digest,
      id: 'ci-run-7',
    });
    const second = await post(generic, body);
    expect(second.status).toBe(202);
    expect(second.body.enqueued).toEqual([]);
    expect(second.body.duplicates).toHaveLength(1);
    expect(await parts.jobs()).toHaveLength(1);
  });

  it('two images that share a CI event id and tag are two jobs (registry and repository are part of the identity)', async () => {
    const digest = 'sha256:1bc04b5291c26a46d918139138b992d2de976d6851d0893b0476b85bfbdfc6e6';
    const api = JSON.stringify({ image: 'ghcr.io/acme/api:abc123', digest, id: 'pipeline-7' });
    const worker = JSON.stringify({
      image: 'ghcr.io/acme/worker:abc123',
      digest,
      id: 'pipeline-7',
    });
    const other = JSON.stringify({ image: 'quay.io/acme/api:abc123', digest, id: 'pipeline-7' });
    for (const body of [api, worker, other]) {
      const response = await post(generic, body);
      expect(response.status).toBe(202);
      expect(response.body.enqueued).toHaveLength(1);
    }
    const jobs = await parts.jobs();
    expect(jobs.map((j) => `${j.data.registry}/${j.data.repository}`).sort()).toEqual([
      'ghcr.io/acme/api',
      'ghcr.io/acme/worker',
      'quay.io/acme/api',
    ]);
    expect((await post(generic, worker)).body.duplicates).toHaveLength(1);
    expect(await parts.jobs()).toHaveLength(3);
  });

  it('a Distribution envelope that reuses one event id for two repositories enqueues both', async () => {
    const envelope = JSON.parse(fixture('distribution', 'manifest-push-documented')) as {
      events: { target: { repository: string; digest: string } }[];
    };
    const second = structuredClone(envelope.events[0]!);
    second.target.repository = 'team/worker';
    second.target.digest =
      'sha256:5861314d7fccb39c2192173240eab44fa35ca66426201ca2acd0630a6258dd51';
    envelope.events.push(second);
    const body = JSON.stringify(envelope);
    const response = await post(distribution, body);
    expect(response.status).toBe(202);
    expect(response.body.enqueued.map((e: { image: string }) => e.image).sort()).toEqual([
      'registry.example.com/team/api:1.4.2',
      'registry.example.com/team/worker:1.4.2',
    ]);
    expect(await parts.jobs()).toHaveLength(2);
    expect((await post(distribution, body)).body.enqueued).toEqual([]);
    expect(await parts.jobs()).toHaveLength(2);
  });

  it('a Distribution envelope with one bad event enqueues the valid ones and lists the bad one in the 202', async () => {
    const envelope = JSON.parse(fixture('distribution', 'manifest-push-documented')) as {
      events: { target: { repository: string; digest: string } }[];
    };
    const bad = structuredClone(envelope.events[0]!);
    bad.target.repository = 'team/worker';
    bad.target.digest = `sha512:${'a'.repeat(128)}`;
    envelope.events.unshift(bad);
    const invalidBefore = await parts.metric('cvm_push_events_invalid_total', {
      source: 'distribution',
    });
    const response = await post(distribution, JSON.stringify(envelope));
    expect(response.status).toBe(202);
    expect(response.body.enqueued.map((e: { image: string }) => e.image)).toEqual([
      'registry.example.com/team/api:1.4.2',
    ]);
    expect(response.body.invalid).toEqual([
      expect.stringMatching(/^events\[0\]\.target\.digest: expected a digest sha256:/),
    ]);
    expect(await parts.jobs()).toHaveLength(1);
    expect(await parts.metric('cvm_push_events_invalid_total', { source: 'distribution' })).toBe(
      invalidBefore + 1,
    );
  });

  it('a Harbor delivery with one bad resource enqueues the others', async () => {
    const harbor = cases.find((c) => c.source === 'harbor')!;
    const body = JSON.parse(fixture('harbor', 'cloudevents-two-tags')) as {
      data: { resources: { digest: string }[] };
    };
    body.data.resources[1]!.digest = 'sha256:short';
    const response = await post(harbor, JSON.stringify(body));
    expect(response.status).toBe(202);
    expect(response.body.enqueued.map((e: { image: string }) => e.image)).toEqual([
      'harbor.example.com/team/api:1.4.2',
    ]);
    expect(response.body.invalid).toEqual([
      expect.stringMatching(/^data\.resources\[1\]\.digest: /),
    ]);
  });

  it('a delivery in which nothing is valid is a 400 that lists every reason', async () => {
    const envelope = JSON.parse(fixture('distribution', 'manifest-push-documented')) as {
      events: { target: { digest: string } }[];
    };
    envelope.events[0]!.target.digest = 'sha512:x';
    envelope.events.push(structuredClone(envelope.events[0]!));
    const response = await post(distribution, JSON.stringify(envelope));
    expect(response.status).toBe(400);
    expect(response.body.error).toContain('events[0].target.digest');
    expect(response.body.invalid).toHaveLength(2);
    expect(response.body.invalid[1]).toContain('events[1].target.digest');
    expect(await parts.jobs()).toHaveLength(0);
  });

  it('answers 404 for an unknown source and for a source without secrets', async () => {
    const disabled = createWebhookApp({
      sources: webhookSources(loadConfig({})),
      ingest: parts.ingest,
      metrics: parts.metrics,
      bodyLimitBytes: 4096,
    });
    expect((await request(app).post('/webhooks/nexus').set(json).send('{}')).status).toBe(404);
    expect((await request(disabled).post('/webhooks/ecr').set(json).send('{}')).status).toBe(404);
    expect((await request(app).post(`/webhooks/ecr/${S1}`).set(json).send('{}')).status).toBe(404);
    expect((await request(app).get('/webhooks/ecr')).status).toBe(404);
  });

  it('answers 413 for a body over the limit', async () => {
    const body = JSON.stringify({ image: 'a/b:c', padding: 'x'.repeat(5000) });
    const response = await post(generic, body);
    expect(response.status).toBe(413);
    expect(response.body.error).toBe('body larger than 4096 bytes');
    expect(
      await parts.metric('cvm_webhook_requests_total', { source: 'generic', outcome: 'too_large' }),
    ).toBe(1);
    expect(
      await parts.metric('cvm_webhook_requests_total', { source: 'unknown', outcome: 'too_large' }),
    ).toBe(0);
  });

  it('answers 415 for a content type the source does not send', async () => {
    const body = fixture('generic', 'tag-and-digest');
    const response = await post(generic, body, S1, { 'content-type': 'text/plain' });
    expect(response.status).toBe(415);
    expect(response.body.error).toContain('application/json');
  });

  it('takes GitHub deliveries in form encoding (payload=)', async () => {
    const ghcr = cases.find((c) => c.source === 'ghcr')!;
    const body = new URLSearchParams({ payload: fixture('ghcr', 'package-published') }).toString();
    const response = await request(app)
      .post('/webhooks/ghcr')
      .set({
        'content-type': 'application/x-www-form-urlencoded',
        'x-hub-signature-256': sign(body, S1),
        'x-github-event': 'package',
        'x-github-delivery': 'form-1',
      })
      .send(body);
    expect(ghcr.source).toBe('ghcr');
    expect(response.status).toBe(202);
    expect(response.body.enqueued[0].image).toBe('ghcr.io/acme/api:1.4.2');
  });

  it('counts requests by source and outcome', async () => {
    await post(generic, fixture('generic', 'tag-and-digest'));
    await post(generic, fixture('generic', 'tag-and-digest'), 'wrong-secret-0123456789');
    expect(
      await parts.metric('cvm_webhook_requests_total', {
        source: 'generic',
        outcome: 'unauthorized',
      }),
    ).toBeGreaterThan(0);
    expect(
      await parts.metric('cvm_push_events_enqueued_total', { source: 'generic', kind: 'push' }),
    ).toBeGreaterThan(0);
  });
});

describe('webhook receiver with Redis unreachable', () => {
  it('answers 503 with Retry-After and writes nothing', async () => {
    const down = await receiverParts(`redis://127.0.0.1:${await freePort()}`, {
      waitForRedis: false,
    });
    try {
      const unavailable = createWebhookApp({
        sources: webhookSources(config),
        ingest: down.ingest,
        metrics: down.metrics,
        bodyLimitBytes: 4096,
      });
      const distribution = cases.find((c) => c.source === 'distribution')!;
      const body = fixture('distribution', 'image-push-with-blobs');
      const response = await request(unavailable)
        .post(distribution.path(S1))
        .set(distribution.headers(body, S1))
        .send(body);
      expect(response.status).toBe(503);
      expect(response.headers['retry-after']).toBe('5');
      expect(response.body.error).toMatch(/unavailable/);
      for (let i = 0; i < 5; i += 1) {
        const again = await request(unavailable)
          .post(distribution.path(S1))
          .set(distribution.headers(body, S1))
          .send(body);
        expect(again.status).toBe(503);
      }
      // Six refused deliveries during one outage: one line, not one per delivery.
      expect(down.logs.filter((l) => l.msg === 'enqueue failed')).toHaveLength(1);
    } finally {
      await down.close();
    }
  });
});

describe('webhook receiver, large and retried deliveries', () => {
  const quay = cases.find((c) => c.source === 'quay')!;
  const quayPush = (tags: number) =>
    JSON.stringify({
      repository: 'acme/api',
      namespace: 'acme',
      name: 'api',
      docker_url: 'quay.io/acme/api',
      homepage: 'https://quay.io/repository/acme/api',
      updated_tags: Array.from({ length: tags }, (_, i) => `t${i}`),
    });
  const appOf = (ingest: typeof parts.ingest, metrics: typeof parts.metrics) =>
    createWebhookApp({
      sources: webhookSources(config),
      ingest,
      metrics,
      bodyLimitBytes: 1_048_576,
    });

  it('a Quay push of 10,000 tags is refused with 413 naming the cap, and writes nothing', async () => {
    const response = await request(appOf(parts.ingest, parts.metrics))
      .post(quay.path(S1))
      .set(quay.headers('', S1))
      .send(quayPush(10_000));
    expect(response.status).toBe(413);
    expect(response.body.error).toBe(
      'the delivery holds 10000 events; at most 1000 are taken per delivery (CVM_MAX_EVENTS_PER_DELIVERY)',
    );
    expect(await parts.jobs()).toHaveLength(0);
    expect(
      await parts.metric('cvm_webhook_requests_total', {
        source: 'quay',
        outcome: 'too_many_events',
      }),
    ).toBe(1);
  });

  it('a delivery at the cap is enqueued whole', async () => {
    const response = await request(appOf(parts.ingest, parts.metrics))
      .post(quay.path(S1))
      .set(quay.headers('', S1))
      .send(quayPush(1_000));
    expect(response.status).toBe(202);
    expect(response.body.enqueued).toHaveLength(1_000);
    expect(await parts.jobs()).toHaveLength(1_000);
  });

  it('a Quay delivery answered 503 and then redelivered twice ends as one job per tag', async () => {
    // An enqueue that cannot be confirmed in time: the 503 comes while the write may still land.
    const slow = await receiverParts(MACHINE_REDIS_URL, { queueOptions: { enqueueTimeoutMs: 1 } });
    const later = await receiverParts(MACHINE_REDIS_URL, { prefix: slow.prefix });
    try {
      const body = quayPush(300);
      const deliver = (app: ReturnType<typeof appOf>) =>
        request(app).post(quay.path(S1)).set(quay.headers(body, S1)).send(body);
      const first = await deliver(appOf(slow.ingest, slow.metrics));
      expect(first.status).toBe(503);
      expect(first.body.error).toMatch(/retry/);
      await waitFor(
        async () => (await later.jobs()).length === 300,
        'the write the 503 did not wait for',
        { timeoutMs: 10_000 },
      );
      for (let i = 0; i < 2; i += 1) {
        const again = await deliver(appOf(later.ingest, later.metrics));
        expect(again.status).toBe(202);
        expect(again.body.enqueued).toEqual([]);
        expect(again.body.duplicates).toHaveLength(300);
      }
      expect(await later.jobs()).toHaveLength(300);
    } finally {
      await later.close();
      await slow.close();
    }
  });
});
