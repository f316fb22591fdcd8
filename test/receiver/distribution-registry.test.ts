import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { HttpServer } from '../../src/lifecycle/http-server.js';
import { webhookSources } from '../../src/receiver/sources.js';
import { createWebhookApp } from '../../src/receiver/webhook-app.js';
import { DockerRegistry } from '../support/docker-registry.js';
import { skopeoPush, writeOciImage } from '../support/oci-layout.js';
import { receiverParts } from '../support/receiver-parts.js';
import { waitFor } from '../support/wait-for.js';

const TOKEN = 'registry-notify-token-0123456789';
let parts: Awaited<ReturnType<typeof receiverParts>>;
let server: HttpServer;
let registry: DockerRegistry;

beforeAll(async () => {
  parts = await receiverParts();
  const config = loadConfig({ CVM_DISTRIBUTION_TOKENS: TOKEN });
  server = new HttpServer({
    name: 'webhooks',
    port: 0,
    host: '127.0.0.1',
    handler: createWebhookApp({
      sources: webhookSources(config),
      ingest: parts.ingest,
      metrics: parts.metrics,
      bodyLimitBytes: config.webhookBodyLimitBytes,
    }),
  });
  await server.start();
  registry = await DockerRegistry.start({
    url: `${server.url}/webhooks/distribution`,
    headers: { Authorization: [`Bearer ${TOKEN}`] },
  });
}, 30_000);

afterAll(async () => {
  await registry?.stop();
  await server?.stop();
  await parts?.close();
});

describe('docker-registry notifications → receiver', () => {
  it('a skopeo push becomes exactly one push-events job with repository, tag and digest; blob events are ignored', async () => {
    const image = writeOciImage('1.0.0');
    skopeoPush(image, `${registry.host}/team/api:1.0.0`);

    const jobs = await waitFor(async () => {
      const found = await parts.jobs();
      return found.length > 0 ? found : undefined;
    }, 'a push-events job');
    // The registry sends the blob events and the manifest event; wait until all were answered.
    await waitFor(
      async () =>
        (await parts.metric('cvm_push_events_ignored_total', { source: 'distribution' })) >= 2,
      'the blob events',
    );
    expect((await parts.jobs()).map((j) => j.data)).toEqual([
      expect.objectContaining({
        kind: 'push',
        source: 'distribution',
        registry: registry.host,
        repository: 'team/api',
        tag: '1.0.0',
        digest: image.manifestDigest,
      }),
    ]);
    expect(jobs).toHaveLength(1);
  });
});
