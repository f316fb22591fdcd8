import { once } from 'node:events';
import { connect, createServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OciRegistryClient } from '../../src/registry/oci-registry-client.js';
import { ImageNotFoundError } from '../../src/registry/registry-client.js';
import { DockerRegistry } from '../support/docker-registry.js';
import { skopeoPush, writeOciImage, writeOciIndex } from '../support/oci-layout.js';

let registry: DockerRegistry;
const outcomes: string[] = [];

beforeAll(async () => {
  registry = await DockerRegistry.start();
});
afterAll(async () => {
  await registry?.stop();
});

const client = (options: ConstructorParameters<typeof OciRegistryClient>[0] = {}) =>
  new OciRegistryClient({
    onRequest: (_host, method, outcome) => outcomes.push(`${method} ${outcome}`),
    ...options,
  });
const repoRef = (repository: string) => ({ registry: registry.host, repository });

describe('OciRegistryClient against docker-registry', () => {
  it('resolves an existing tag to the pushed manifest digest, a missing one to null, and follows a re-tag', async () => {
    const repo = repoRef('oci-client/resolve');
    const first = writeOciImage('1.0.0', { labels: { n: '1' } });
    const second = writeOciImage('1.1.0', { labels: { n: '2' } });
    skopeoPush(first, `${registry.host}/${repo.repository}:stable`);
    const oci = client();

    expect(await oci.resolveTag(repo, 'stable')).toEqual({
      digest: first.manifestDigest,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
    });
    expect(await oci.resolveTag(repo, 'missing')).toBeNull();
    expect(await oci.resolveTag(repoRef('oci-client/no-such-repo'), 'stable')).toBeNull();

    skopeoPush(second, `${registry.host}/${repo.repository}:stable`);
    expect((await oci.resolveTag(repo, 'stable'))?.digest).toBe(second.manifestDigest);
    expect(outcomes).toContain('HEAD ok');
    expect(outcomes).toContain('HEAD not_found');
  });

  it('resolves tag after tag over one connection (HEADs kept alive), through a relay that counts them', async () => {
    const repo = repoRef('oci-client/kept-alive');
    const image = writeOciImage('3.0.0', { labels: { n: '3' } });
    skopeoPush(image, `${registry.host}/${repo.repository}:a`);
    skopeoPush(image, `${registry.host}/${repo.repository}:b`);
    // A TCP relay in front of docker-registry: every connection cvm opens is one here.
    const [host, port] = [registry.host.split(':')[0]!, Number(registry.host.split(':')[1])];
    let connections = 0;
    const relay = createServer((inbound) => {
      connections += 1;
      const outbound = connect(port, host);
      inbound.pipe(outbound).pipe(inbound);
      const close = () => (inbound.destroy(), outbound.destroy());
      inbound.on('error', close).on('close', close);
      outbound.on('error', close).on('close', close);
    });
    relay.listen(0, '127.0.0.1');
    await once(relay, 'listening');
    try {
      const via = {
        registry: `127.0.0.1:${(relay.address() as AddressInfo).port}`,
        repository: repo.repository,
      };
      const oci = client();
      for (let i = 0; i < 10; i++)
        expect((await oci.resolveTag(via, i % 2 ? 'a' : 'b'))?.digest).toBe(image.manifestDigest);
      expect(connections).toBe(1);
    } finally {
      relay.close();
    }
  });

  it('describes a digest with the labels, creation time and platform of its config', async () => {
    const repo = repoRef('oci-client/describe');
    const image = writeOciImage('2.0.0', {
      labels: { 'org.opencontainers.image.version': '2.0.0' },
      created: '2026-03-04T05:06:07Z',
      architecture: 'arm64',
    });
    skopeoPush(image, `${registry.host}/${repo.repository}:2.0.0`);

    expect(await client().describe(repo, image.manifestDigest)).toEqual({
      digest: image.manifestDigest,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      platforms: [{ os: 'linux', architecture: 'arm64' }],
      labels: { 'org.opencontainers.image.version': '2.0.0' },
      created: '2026-03-04T05:06:07Z',
    });
  });

  it('describes a digest once: a second describe makes no manifest or blob GET at the registry', async () => {
    const repo = repoRef('oci-client/describe-cache');
    const image = writeOciImage('4.0.0', { labels: { n: 'cached' } });
    skopeoPush(image, `${registry.host}/${repo.repository}:4.0.0`);
    const oci = client();
    const reads = () =>
      registry.requests(new RegExp(`^GET /v2/${repo.repository}/(manifests|blobs)/`)).length;
    // docker-registry writes its access log line after the answer; give it a moment.
    const settled = async () => {
      let seen = -1;
      while (seen !== reads()) {
        seen = reads();
        await new Promise((r) => setTimeout(r, 100));
      }
      return seen;
    };

    const before = await settled();
    const [first, concurrent] = await Promise.all([
      oci.describe(repo, image.manifestDigest),
      oci.describe(repo, image.manifestDigest),
    ]);
    const afterFirst = await settled();
    expect(afterFirst - before).toBe(2); // the manifest and its config, once for both calls
    expect(concurrent).toEqual(first);

    expect(await oci.describe(repo, image.manifestDigest)).toEqual(first);
    expect(await settled()).toBe(afterFirst);
    // Another client (no cache of its own yet) reads the registry again.
    await client().describe(repo, image.manifestDigest);
    expect(await settled()).toBe(afterFirst + 2);
  });

  it('keeps only describeCacheSize descriptions and never a failed one', async () => {
    const repo = repoRef('oci-client/describe-cache-bounded');
    const a = writeOciImage('a', { labels: { n: 'a' } });
    const b = writeOciImage('b', { labels: { n: 'b' } });
    skopeoPush(a, `${registry.host}/${repo.repository}:a`);
    skopeoPush(b, `${registry.host}/${repo.repository}:b`);
    const oci = client({ describeCacheSize: 1 });
    const manifestGets = async (digest: string) => {
      await new Promise((r) => setTimeout(r, 300));
      return registry.requests(new RegExp(`^GET /v2/${repo.repository}/manifests/${digest}`))
        .length;
    };

    await oci.describe(repo, a.manifestDigest);
    await oci.describe(repo, b.manifestDigest); // a is dropped: the cache holds one
    await oci.describe(repo, a.manifestDigest);
    expect(await manifestGets(a.manifestDigest)).toBe(2);
    expect(await manifestGets(b.manifestDigest)).toBe(1);

    const missing = `sha256:${'1'.repeat(64)}`;
    await expect(oci.describe(repo, missing)).rejects.toBeInstanceOf(ImageNotFoundError);
    await expect(oci.describe(repo, missing)).rejects.toBeInstanceOf(ImageNotFoundError);
    expect(await manifestGets(missing)).toBe(2);
  });

  it('describing a digest the repository does not hold throws ImageNotFoundError', async () => {
    const repo = repoRef('oci-client/describe');
    const missing = `sha256:${'0'.repeat(64)}`;
    await expect(client().describe(repo, missing)).rejects.toBeInstanceOf(ImageNotFoundError);
  });

  it('describes a multi-arch index: every platform, labels of the linux/amd64 image', async () => {
    const repo = repoRef('oci-client/multiarch');
    const index = writeOciIndex('3.0.0', [
      { architecture: 'arm64', labels: { arch: 'arm64' }, created: '2026-02-01T00:00:00Z' },
      { architecture: 'amd64', labels: { arch: 'amd64' }, created: '2026-02-02T00:00:00Z' },
    ]);
    skopeoPush(index, `${registry.host}/${repo.repository}:3.0.0`, { all: true });
    const oci = client();

    const resolved = await oci.resolveTag(repo, '3.0.0');
    expect(resolved).toEqual({
      digest: index.indexDigest,
      mediaType: 'application/vnd.oci.image.index.v1+json',
    });
    expect(await oci.describe(repo, index.indexDigest)).toEqual({
      digest: index.indexDigest,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      platforms: [
        { os: 'linux', architecture: 'arm64' },
        { os: 'linux', architecture: 'amd64' },
      ],
      labels: { arch: 'amd64' },
      created: '2026-02-02T00:00:00Z',
    });
  });

  it('finds the tags on a digest among those the filter accepts, resolving only the accepted ones', async () => {
    const repo = repoRef('oci-client/tags');
    const a = writeOciImage('a');
    const b = writeOciImage('b');
    for (const tag of ['1.0.0', 'v1', 'latest'])
      skopeoPush(a, `${registry.host}/${repo.repository}:${tag}`);
    for (const tag of ['0.9.0', 'old']) skopeoPush(b, `${registry.host}/${repo.repository}:${tag}`);
    const semver = (tag: string) => /^\d+\.\d+\.\d+$/.test(tag);
    const headsBefore = outcomes.filter((o) => o.startsWith('HEAD')).length;
    const oci = client();

    expect(await oci.tagsOf(repo, a.manifestDigest, semver)).toEqual(['1.0.0']);
    expect(await oci.tagsOf(repo, a.manifestDigest, () => true)).toEqual(['v1', 'latest', '1.0.0']);
    expect(await oci.tagsOf(repo, b.manifestDigest, () => true)).toEqual(['old', '0.9.0']);
    // Only the two semver candidates were resolved for the first call: the filter runs before HEADs.
    const heads = outcomes.filter((o) => o.startsWith('HEAD')).length - headsBefore;
    expect(heads).toBe(2 + 5 + 5);

    // The limit bounds how many candidates are resolved, newest-looking first
    // (order: v1, old, latest, 1.0.0, 0.9.0).
    expect(await oci.tagsOf(repo, a.manifestDigest, () => true, 1)).toEqual(['v1']);
    expect(await oci.tagsOf(repo, b.manifestDigest, () => true, 1)).toEqual([]);
    expect(await oci.tagsOf(repo, b.manifestDigest, () => true, 2)).toEqual(['old']);
    expect(
      await oci.tagsOf(repoRef('oci-client/no-such-repo'), b.manifestDigest, () => true),
    ).toEqual([]);
  });

  it('reports no scanner', async () => {
    expect(await client().scanFindings()).toEqual({ status: 'unsupported' });
  });
});
