import { afterEach, describe, expect, it } from 'vitest';
import { OciRegistryClient } from '../../src/registry/oci-registry-client.js';
import {
  RateLimitedError,
  RegistryAuthError,
  RegistryError,
  type RegistryCredentials,
} from '../../src/registry/registry-client.js';
import { freePort } from '../support/redis-server.js';
import { json, ProtocolPeer } from './support/protocol-peer.js';

const DIGEST = `sha256:${'a'.repeat(64)}`;
const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

let peers: ProtocolPeer[] = [];
afterEach(async () => {
  await Promise.all(peers.map((p) => p.stop()));
  peers = [];
});
const start = async (...args: Parameters<typeof ProtocolPeer.start>) => {
  const peer = await ProtocolPeer.start(...args);
  peers.push(peer);
  return peer;
};

/** A registry that wants `Bearer <token>` from its own `/token` realm; the token service checks Basic creds when given. */
async function bearerRegistry(
  options: { expiresIn?: number; acceptedTokens?: () => Set<string> } = {},
) {
  let issued = 0;
  const live = new Set<string>();
  const peer = await start((req, res, self) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/token') {
      const auth = req.headers.authorization;
      if (auth && auth !== basic('alice', 's3cret'))
        return json(res, 401, { details: 'bad credentials' });
      const token = `${auth ? 'alice' : 'anonymous'}-${++issued}-${url.searchParams.getAll('scope').join('|')}`;
      live.add(token);
      return json(res, 200, {
        token,
        ...(options.expiresIn ? { expires_in: options.expiresIn } : {}),
      });
    }
    const accepted = options.acceptedTokens?.() ?? live;
    const bearer = req.headers.authorization?.replace(/^Bearer /, '');
    if (!bearer || !accepted.has(bearer)) {
      res.writeHead(401, {
        'www-authenticate': `Bearer realm="http://${self.host}/token",service="peer",scope="repository:team/app:pull"`,
        'content-type': 'application/json',
      });
      return res.end(
        JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }),
      );
    }
    res.writeHead(200, { 'docker-content-digest': DIGEST, 'content-type': MANIFEST });
    res.end();
  });
  return peer;
}

describe('OciRegistryClient bearer-token flow (in-test protocol peer)', () => {
  it('gets a token with Basic credentials, caches it per scope until expires_in minus a margin', async () => {
    const peer = await bearerRegistry({ expiresIn: 120 });
    let now = 1_000_000;
    const seen: string[] = [];
    const oci = new OciRegistryClient({
      credentials: (host): RegistryCredentials | undefined =>
        host === peer.host ? { username: 'alice', password: 's3cret' } : undefined,
      now: () => now,
      onRequest: (_h, method, outcome) => seen.push(`${method} ${outcome}`),
    });
    const repo = { registry: peer.host, repository: 'team/app' };

    expect(await oci.resolveTag(repo, '1.0')).toEqual({ digest: DIGEST, mediaType: MANIFEST });
    const tokenRequests = () => peer.requests.filter((r) => r.path.startsWith('/token'));
    expect(tokenRequests()).toHaveLength(1);
    expect(tokenRequests()[0]?.authorization).toBe(basic('alice', 's3cret'));
    expect(tokenRequests()[0]?.path).toBe(
      '/token?service=peer&scope=repository%3Ateam%2Fapp%3Apull',
    );
    expect(seen).toEqual(['HEAD challenged', 'GET ok', 'HEAD ok']);

    // Cached: the second HEAD goes straight out with the token.
    now += 100_000;
    await oci.resolveTag(repo, '1.0');
    expect(tokenRequests()).toHaveLength(1);
    expect(peer.requests.at(-1)?.authorization).toBe('Bearer alice-1-repository:team/app:pull');

    // 120 s minus the 10 s margin has passed: a new token is fetched before asking.
    now += 11_000;
    await oci.resolveTag(repo, '1.0');
    expect(tokenRequests()).toHaveLength(2);
    expect(peer.requests.at(-1)?.authorization).toBe('Bearer alice-2-repository:team/app:pull');
  });

  it('asks the token service anonymously without credentials, and a token defaults to 60 s', async () => {
    const peer = await bearerRegistry();
    let now = 0;
    const oci = new OciRegistryClient({ now: () => now });
    const repo = { registry: peer.host, repository: 'team/app' };
    await oci.resolveTag(repo, '1.0');
    const tokenRequests = () => peer.requests.filter((r) => r.path.startsWith('/token'));
    expect(tokenRequests()[0]?.authorization).toBeUndefined();
    now += 49_000;
    await oci.resolveTag(repo, '1.0');
    expect(tokenRequests()).toHaveLength(1);
    now += 2_000;
    await oci.resolveTag(repo, '1.0');
    expect(tokenRequests()).toHaveLength(2);
  });

  it('wrong credentials at the token service are a RegistryAuthError', async () => {
    const peer = await bearerRegistry();
    const oci = new OciRegistryClient({
      credentials: () => ({ username: 'alice', password: 'wrong' }),
    });
    const error = await oci
      .resolveTag({ registry: peer.host, repository: 'team/app' }, '1.0')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryAuthError);
    expect((error as RegistryAuthError).transient).toBe(false);
    expect((error as Error).message).toMatch(/credentials refused/);
  });

  it('a token the registry refuses is renewed once, then a RegistryAuthError', async () => {
    const peer = await bearerRegistry({ acceptedTokens: () => new Set() });
    const oci = new OciRegistryClient();
    await expect(
      oci.resolveTag({ registry: peer.host, repository: 'team/app' }, '1.0'),
    ).rejects.toBeInstanceOf(RegistryAuthError);
    expect(peer.requests.map((r) => r.path.split('?')[0])).toEqual([
      '/v2/team/app/manifests/1.0',
      '/token',
      '/v2/team/app/manifests/1.0',
    ]);
  });

  it('a Basic challenge without configured credentials is a RegistryAuthError naming the registry', async () => {
    const peer = await start((_req, res) => {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="private"' });
      res.end();
    });
    await expect(
      new OciRegistryClient().resolveTag({ registry: peer.host, repository: 'a' }, 'x'),
    ).rejects.toThrow(`${peer.host} asks for Basic auth and no credentials are configured`);
  });
});

describe('OciRegistryClient failures say what happens next (in-test protocol peer)', () => {
  const failing = (status: number, headers: Record<string, string> = {}, body = '') =>
    start((_req, res) => {
      res.writeHead(status, headers);
      res.end(body);
    });

  it.each([
    ['seconds', { 'retry-after': '7' }, 7_000],
    ['an HTTP date', { 'retry-after': new Date(Date.now() + 30_000).toUTCString() }, 30_000],
    ['nothing', {}, 10_000],
  ])(
    '429 with Retry-After %s is a RateLimitedError with that wait',
    async (_what, headers, expectedMs) => {
      const peer = await failing(429, headers, 'You have reached your pull rate limit.');
      const error = await new OciRegistryClient()
        .resolveTag({ registry: peer.host, repository: 'a' }, 'x')
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RateLimitedError);
      expect((error as RateLimitedError).transient).toBe(true);
      expect((error as RateLimitedError).retryAfterMs).toBeGreaterThan(expectedMs - 2_000);
      expect((error as RateLimitedError).retryAfterMs).toBeLessThanOrEqual(expectedMs);
      expect((error as Error).message).toMatch(
        /^HEAD \/v2\/a\/manifests\/x on 127\.0\.0\.1:\d+: 429$/,
      );
    },
  );

  it('5xx is a transient RegistryError carrying the registry error code', async () => {
    const peer = await failing(
      503,
      { 'content-type': 'application/json' },
      JSON.stringify({ errors: [{ code: 'UNAVAILABLE', message: 'maintenance' }] }),
    );
    const outcomes: string[] = [];
    const error = await new OciRegistryClient({ onRequest: (_h, _m, o) => outcomes.push(o) })
      .describe({ registry: peer.host, repository: 'a' }, DIGEST)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryError);
    expect((error as RegistryError).transient).toBe(true);
    expect((error as Error).message).toMatch(/503 UNAVAILABLE maintenance/);
    expect(outcomes).toEqual(['server_error']);
  });

  it('a 400 is a permanent RegistryError', async () => {
    const peer = await failing(
      400,
      {},
      JSON.stringify({ errors: [{ code: 'NAME_INVALID', message: 'bad name' }] }),
    );
    const error = await new OciRegistryClient()
      .resolveTag({ registry: peer.host, repository: 'a' }, 'x')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryError);
    expect((error as RegistryError).transient).toBe(false);
  });

  it('a registry that does not answer within timeoutMs is a transient RegistryError', async () => {
    const peer = await start(() => {
      // never answers
    });
    const error = await new OciRegistryClient({ timeoutMs: 200 })
      .resolveTag({ registry: peer.host, repository: 'a' }, 'x')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryError);
    expect((error as RegistryError).transient).toBe(true);
    expect((error as Error).message).toMatch(/timed out after 200 ms/);
  });

  it('a refused connection is a transient RegistryError', async () => {
    const port = await freePort();
    const error = await new OciRegistryClient()
      .resolveTag({ registry: `127.0.0.1:${port}`, repository: 'a' }, 'x')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryError);
    expect((error as RegistryError).transient).toBe(true);
  });
});

describe('OciRegistryClient requests (in-test protocol peer)', () => {
  it('walks every page of the tag list through Link rel="next" with n=', async () => {
    const all = ['1.0.0', '1.1.0', '1.2.0', '2.0.0', 'latest'];
    const peer = await start((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/v2/team/app/tags/list') {
        const n = Number(url.searchParams.get('n'));
        const last = url.searchParams.get('last');
        const from = last ? all.indexOf(last) + 1 : 0;
        const page = all.slice(from, from + n);
        const more = from + n < all.length;
        return json(
          res,
          200,
          { name: 'team/app', tags: page },
          more ? { link: `</v2/team/app/tags/list?last=${page.at(-1)}&n=${n}>; rel="next"` } : {},
        );
      }
      const tag = url.pathname.split('/').at(-1) ?? '';
      res.writeHead(200, {
        'docker-content-digest': tag.startsWith('1.') ? DIGEST : `sha256:${'b'.repeat(64)}`,
        'content-type': MANIFEST,
      });
      res.end();
    });
    const oci = new OciRegistryClient({ tagPageSize: 2 });
    expect(
      await oci.tagsOf(
        { registry: peer.host, repository: 'team/app' },
        DIGEST,
        (t) => t !== 'latest',
      ),
    ).toEqual(['1.2.0', '1.1.0', '1.0.0']);
    expect(peer.requests.filter((r) => r.path.includes('/tags/list')).map((r) => r.path)).toEqual([
      '/v2/team/app/tags/list?n=2',
      '/v2/team/app/tags/list?last=1.1.0&n=2',
      '/v2/team/app/tags/list?last=2.0.0&n=2',
    ]);
    // HEADs only for the four candidates the filter accepted.
    expect(peer.requests.filter((r) => r.method === 'HEAD')).toHaveLength(4);
  });

  it('tag HEADs one after another share one kept-alive connection (fetch closes it after every HEAD)', async () => {
    const peer = await start((req, res) => {
      // As docker-registry answers a HEAD of a manifest: with the manifest's length.
      res.writeHead(200, {
        'docker-content-digest': DIGEST,
        'content-type': MANIFEST,
        'content-length': '528',
      });
      res.end();
    });
    const oci = new OciRegistryClient();
    for (let i = 0; i < 20; i++)
      expect(await oci.resolveTag({ registry: peer.host, repository: 'a' }, `t${i}`)).toEqual({
        digest: DIGEST,
        mediaType: MANIFEST,
      });
    expect(peer.requests.filter((r) => r.method === 'HEAD')).toHaveLength(20);
    expect(peer.connections).toBe(1);
  });

  it('sends the full Accept list, and hashes a GET when HEAD has no Docker-Content-Digest', async () => {
    const body = JSON.stringify({
      schemaVersion: 2,
      mediaType: MANIFEST,
      config: { digest: DIGEST },
      layers: [],
    });
    const peer = await start((req, res) => {
      res.writeHead(200, { 'content-type': MANIFEST });
      res.end(req.method === 'GET' ? body : undefined);
    });
    const resolved = await new OciRegistryClient().resolveTag(
      { registry: peer.host, repository: 'a' },
      'x',
    );
    const { createHash } = await import('node:crypto');
    expect(resolved).toEqual({
      digest: `sha256:${createHash('sha256').update(body).digest('hex')}`,
      mediaType: MANIFEST,
    });
    expect(peer.requests.map((r) => r.method)).toEqual(['HEAD', 'GET']);
    expect(peer.requests[0]?.accept).toBe(
      'application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json',
    );
  });

  it.each([
    ['docker.io', 'library/nginx', 'https://registry-1.docker.io/v2/library/nginx/manifests/1.27'],
    ['ghcr.io', 'acme/api', 'https://ghcr.io/v2/acme/api/manifests/1.27'],
    ['localhost:5000', 'a', 'http://localhost:5000/v2/a/manifests/1.27'],
    ['127.0.0.1:5000', 'a', 'http://127.0.0.1:5000/v2/a/manifests/1.27'],
    ['registry.internal:5000', 'a', 'http://registry.internal:5000/v2/a/manifests/1.27'],
    ['registry.internal', 'a', 'https://registry.internal/v2/a/manifests/1.27'],
  ])('%s/%s is asked at %s', async (registry, repository, expected) => {
    const urls: string[] = [];
    const oci = new OciRegistryClient({
      insecureHosts: ['registry.internal:5000'],
      fetch: (input) => {
        urls.push(input instanceof Request ? input.url : input.toString());
        return Promise.resolve(new Response(null, { status: 404 }));
      },
    });
    expect(await oci.resolveTag({ registry, repository }, '1.27')).toBeNull();
    expect(urls).toEqual([expected]);
  });
});
