import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { webhookSources } from '../../src/receiver/sources.js';
import { createWebhookApp } from '../../src/receiver/webhook-app.js';
import { freePort } from '../support/redis-server.js';
import { receiverParts } from '../support/receiver-parts.js';

const AUDIENCE = 'https://cvm.example.com/webhooks/gar';
const EMAIL = 'pubsub-push@my-project.iam.gserviceaccount.com';
const ISSUER = 'https://accounts.google.com';
const PATH_TOKEN = 'gar-path-token-0123456789';
const body = readFileSync(
  new URL('../events/fixtures/gar/insert-documented.json', import.meta.url),
  'utf8',
);

type KeyPair = Awaited<ReturnType<typeof generateKeyPair>>;
let issuerKey: KeyPair;
let strangerKey: KeyPair;
let jwksServer: Server;
let jwksUrl: string;
let jwksRequests = 0;

const listen = async (server: Server): Promise<string> => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
};

beforeAll(async () => {
  issuerKey = await generateKeyPair('RS256');
  strangerKey = await generateKeyPair('RS256');
  const jwk: JWK = {
    ...(await exportJWK(issuerKey.publicKey)),
    kid: 'k1',
    alg: 'RS256',
    use: 'sig',
  };
  jwksServer = createServer((_request, response) => {
    jwksRequests += 1;
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ keys: [jwk] }));
  });
  jwksUrl = `${await listen(jwksServer)}/oauth2/v3/certs`;
});
afterAll(async () => {
  await new Promise((resolve) => jwksServer.close(resolve));
});

/** A token as Pub/Sub signs it, with `claims` changed; signed by the issuer's key unless told. */
async function token(
  claims: JWTPayload = {},
  { key = issuerKey, kid = 'k1', expiresInSeconds = 3_600 } = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    iss: ISSUER,
    aud: AUDIENCE,
    email: EMAIL,
    email_verified: true,
    sub: '1234567890',
    iat: now - 60,
    exp: now + expiresInSeconds,
    ...claims,
  })
    .setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' })
    .sign(key.privateKey);
}

/** The receiver's webhook app on 127.0.0.1 with real Redis, configured from `env`. */
async function receiver(env: Record<string, string>) {
  const parts = await receiverParts();
  const config = loadConfig(env);
  const app = createWebhookApp({
    sources: webhookSources(config),
    ingest: parts.ingest,
    metrics: parts.metrics,
    bodyLimitBytes: config.webhookBodyLimitBytes,
  });
  const server = createServer(app);
  const base = await listen(server);
  const post = async (path: string, headers: Record<string, string> = {}) => {
    const response = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
      signal: AbortSignal.timeout(10_000),
    });
    return { status: response.status, body: (await response.json()) as Record<string, any> };
  };
  return {
    parts,
    post,
    close: async () => {
      await new Promise((resolve) => server.close(resolve));
      await parts.close();
    },
  };
}

const oidcEnv = () => ({
  CVM_GAR_OIDC_AUDIENCE: AUDIENCE,
  CVM_GAR_OIDC_EMAILS: `other@my-project.iam.gserviceaccount.com, ${EMAIL}`,
  CVM_GAR_OIDC_JWKS_URL: jwksUrl,
});

describe('POST /webhooks/gar with the OIDC token of a Pub/Sub push subscription', () => {
  let r: Awaited<ReturnType<typeof receiver>>;
  beforeAll(async () => {
    r = await receiver({ ...oidcEnv(), CVM_GAR_TOKENS: PATH_TOKEN });
  });
  afterEach(async () => {
    await r.parts.queue.queue.obliterate({ force: true });
  });
  afterAll(async () => {
    await r.close();
  });

  it('accepts a valid token and enqueues the push, fetching the keys from the JWKS URL', async () => {
    const response = await r.post('/webhooks/gar', { authorization: `Bearer ${await token()}` });
    expect(response.status).toBe(202);
    expect(response.body.enqueued).toEqual([
      {
        id: expect.any(String),
        image: 'us-east1-docker.pkg.dev/my-project/my-repo/hello-world:1.1',
      },
    ]);
    expect((await r.parts.jobs()).map((j) => j.data.source)).toEqual(['gar']);
    expect(jwksRequests).toBeGreaterThan(0);
  });

  it.each<[string, () => Promise<string>, RegExp]>([
    [
      'a token signed by another key under the same kid',
      () => token({}, { key: strangerKey }),
      /signature does not verify/,
    ],
    [
      'a token signed with a key the issuer does not publish',
      () => token({}, { key: strangerKey, kid: 'unknown-kid' }),
      /key \(kid\) that is not among the issuer's keys/,
    ],
    [
      'a token for another audience',
      () => token({ aud: 'https://elsewhere.example.com/push' }),
      /audience \(aud\)/,
    ],
    [
      'a token from another issuer',
      () => token({ iss: 'https://evil.example.com' }),
      /issuer \(iss\)/,
    ],
    [
      'a token naming another service account',
      () => token({ email: 'intruder@other-project.iam.gserviceaccount.com' }),
      /email "intruder@other-project\.iam\.gserviceaccount\.com" is not in CVM_GAR_OIDC_EMAILS/,
    ],
    [
      'a token whose email is not verified',
      () => token({ email_verified: false }),
      /email_verified/,
    ],
    [
      'an expired token',
      () => token({ iat: Math.floor(Date.now() / 1000) - 7_200 }, { expiresInSeconds: -3_600 }),
      /expired/,
    ],
    ['a token without email', () => token({ email: undefined }), /email is missing/],
    ['something that is not a JWT', () => Promise.resolve('not.a.jwt'), /not a valid JWT/],
  ])('refuses %s with 401 naming what was wrong', async (_name, make, reason) => {
    const response = await r.post('/webhooks/gar', { authorization: `Bearer ${await make()}` });
    expect(response.status).toBe(401);
    expect(response.body).toMatchObject({ error: 'unauthorized' });
    expect(response.body.message).toMatch(/^OIDC token: /);
    expect(response.body.message).toMatch(reason);
    expect(await r.parts.jobs()).toEqual([]);
  });

  it('refuses a request without a bearer token with 401 saying what to send', async () => {
    const response = await r.post('/webhooks/gar');
    expect(response.status).toBe(401);
    expect(response.body.message).toMatch(/Authorization: Bearer <JWT>/);
  });

  it('still accepts the path token, and refuses a wrong one', async () => {
    expect((await r.post(`/webhooks/gar/${PATH_TOKEN}`)).status).toBe(202);
    expect((await r.post(`/webhooks/gar/${PATH_TOKEN}x`)).status).toBe(401);
    expect(await r.parts.jobs()).toHaveLength(1);
  });
});

describe('Artifact Registry endpoints by configuration', () => {
  it('with path tokens only, /webhooks/gar without a token is unknown (404)', async () => {
    const r = await receiver({ CVM_GAR_TOKENS: PATH_TOKEN });
    try {
      expect(
        (await r.post('/webhooks/gar', { authorization: `Bearer ${await token()}` })).status,
      ).toBe(404);
      expect((await r.post(`/webhooks/gar/${PATH_TOKEN}`)).status).toBe(202);
    } finally {
      await r.close();
    }
  });

  it('with OIDC only, a path token is unknown (404)', async () => {
    const r = await receiver(oidcEnv());
    try {
      expect((await r.post(`/webhooks/gar/${PATH_TOKEN}`)).status).toBe(404);
      expect(
        (await r.post('/webhooks/gar', { authorization: `Bearer ${await token()}` })).status,
      ).toBe(202);
    } finally {
      await r.close();
    }
  });

  it('answers 503 when the JWKS cannot be fetched: not the sender’s fault, it retries', async () => {
    const closed = `http://127.0.0.1:${await freePort()}/certs`;
    const r = await receiver({ ...oidcEnv(), CVM_GAR_OIDC_JWKS_URL: closed });
    try {
      const response = await r.post('/webhooks/gar', { authorization: `Bearer ${await token()}` });
      expect(response.status).toBe(503);
      expect(response.body.error).toMatch(/CVM_GAR_OIDC_JWKS_URL/);
      expect(await r.parts.jobs()).toEqual([]);
    } finally {
      await r.close();
    }
  });

  it('refuses an audience without allowed service accounts, naming the key', () => {
    expect(() => loadConfig({ CVM_GAR_OIDC_AUDIENCE: AUDIENCE })).toThrow(ConfigError);
    expect(() => loadConfig({ CVM_GAR_OIDC_AUDIENCE: AUDIENCE })).toThrow(
      /CVM_GAR_OIDC_EMAILS: required/,
    );
    expect(() =>
      loadConfig({ CVM_GAR_OIDC_AUDIENCE: AUDIENCE, CVM_GAR_OIDC_EMAILS: 'not-an-email' }),
    ).toThrow(/CVM_GAR_OIDC_EMAILS: must be comma-separated email addresses/);
    expect(() => loadConfig({ CVM_GAR_OIDC_JWKS_URL: 'ftp://x/certs' })).toThrow(
      /CVM_GAR_OIDC_JWKS_URL: must be an http/,
    );
  });
});
