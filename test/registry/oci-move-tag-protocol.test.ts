import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { OciRegistryClient } from '../../src/registry/oci-registry-client.js';
import { RegistryError } from '../../src/registry/registry-client.js';
import { json, ProtocolPeer } from './support/protocol-peer.js';

const INDEX = 'application/vnd.oci.image.index.v1+json';
// Bytes a re-serializer would change (spacing, key order): they must reach the PUT unchanged.
const BODY = Buffer.from(`{"schemaVersion":2,  "mediaType":"${INDEX}","manifests":[]}`);
const DIGEST = `sha256:${createHash('sha256').update(BODY).digest('hex')}`;
const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

let peers: ProtocolPeer[] = [];
afterEach(async () => {
  await Promise.all(peers.map((p) => p.stop()));
  peers = [];
});

/**
 * A token-auth registry: reads need a token with pull, manifest PUTs one with pull,push. Its
 * challenges offer only `pull` (as some registries do), so the client has to ask for push itself.
 */
async function tokenRegistry(storedDigest = DIGEST) {
  const put: { body?: Buffer; contentType?: string; authorization?: string } = {};
  const peer = await ProtocolPeer.start((req, res, self) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/token') {
      if (req.headers.authorization !== basic('ci', 'pw'))
        return json(res, 401, { details: 'bad credentials' });
      return json(res, 200, { token: `t:${url.searchParams.getAll('scope').join(' ')}` });
    }
    const token = req.headers.authorization?.replace(/^Bearer t:/, '') ?? '';
    const needs = req.method === 'PUT' ? 'pull,push' : 'pull';
    if (
      !token
        .split(' ')
        .some(
          (s) =>
            s === `repository:team/app:${needs}` || (needs === 'pull' && s.endsWith(':pull,push')),
        )
    ) {
      res.writeHead(401, {
        'www-authenticate': `Bearer realm="http://${self.host}/token",service="peer",scope="repository:team/app:pull"`,
      });
      return res.end();
    }
    if (
      url.pathname === '/v2/team/app/manifests/1.0.0' ||
      url.pathname === `/v2/team/app/manifests/${DIGEST}`
    ) {
      res.writeHead(200, { 'content-type': INDEX, 'docker-content-digest': DIGEST });
      return res.end(req.method === 'HEAD' ? undefined : BODY);
    }
    if (url.pathname === '/v2/team/app/manifests/prod' && req.method === 'PUT') {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        Object.assign(put, {
          body: Buffer.concat(chunks),
          contentType: req.headers['content-type'],
          authorization: req.headers.authorization,
        });
        res.writeHead(201, { 'docker-content-digest': storedDigest });
        res.end();
      });
      return;
    }
    json(res, 404, { errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] });
  });
  peers.push(peer);
  return { peer, put };
}

describe('OciRegistryClient.moveTag with token auth (in-test protocol peer)', () => {
  it('asks the token service for pull,push and PUTs the exact bytes with their Content-Type', async () => {
    const { peer, put } = await tokenRegistry();
    const oci = new OciRegistryClient({ credentials: () => ({ username: 'ci', password: 'pw' }) });
    const repo = { registry: peer.host, repository: 'team/app' };

    expect(await oci.moveTag(repo, '1.0.0', 'prod')).toEqual({
      tag: 'prod',
      digest: DIGEST,
      result: 'moved',
    });
    expect(put.body?.equals(BODY)).toBe(true);
    expect(put.contentType).toBe(INDEX);
    expect(put.authorization).toBe('Bearer t:repository:team/app:pull,push');
    expect(peer.requests.filter((r) => r.path.startsWith('/token')).map((r) => r.path)).toContain(
      '/token?service=peer&scope=repository%3Ateam%2Fapp%3Apull%2Cpush',
    );
  });

  it('a registry that stores the manifest under another digest is a permanent error', async () => {
    const { peer } = await tokenRegistry(`sha256:${'0'.repeat(64)}`);
    const oci = new OciRegistryClient({ credentials: () => ({ username: 'ci', password: 'pw' }) });
    const error = await oci
      .moveTag({ registry: peer.host, repository: 'team/app' }, DIGEST, 'prod')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryError);
    expect((error as RegistryError).transient).toBe(false);
    expect((error as Error).message).toMatch(/was stored as sha256:0+, not sha256:/);
  });
});
