import { readFileSync } from 'node:fs';
import {
  CreateRepositoryCommand,
  ECRClient,
  PutImageCommand,
  StartImageScanCommand,
} from '@aws-sdk/client-ecr';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EcrRegistryClient } from '../../src/registry/ecr-registry-client.js';
import { ImageNotFoundError, RegistryError } from '../../src/registry/registry-client.js';
import { DockerRegistry } from '../support/docker-registry.js';
import { MOTO_AWS, MotoServer } from '../support/moto-server.js';
import { ProtocolPeer } from './support/protocol-peer.js';
import { skopeoPush, writeOciImage, writeOciIndex, type OciImage } from '../support/oci-layout.js';

// moto's default account; the region is MOTO_AWS's.
const HOST = `123456789012.dkr.ecr.${MOTO_AWS.region}.amazonaws.com`;
const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

let moto: MotoServer;
let v2: DockerRegistry;
let admin: ECRClient;
let ecr: EcrRegistryClient;
const regionsAsked: string[] = [];

beforeAll(async () => {
  [moto, v2] = await Promise.all([MotoServer.start(), DockerRegistry.start()]);
  admin = new ECRClient({ ...MOTO_AWS, endpoint: moto.endpoint });
  ecr = new EcrRegistryClient({
    ecrClient: (region) => {
      regionsAsked.push(region);
      return new ECRClient({ region, credentials: MOTO_AWS.credentials, endpoint: moto.endpoint });
    },
    // moto has no /v2 API: the same manifests and blobs live in docker-registry, which plays ECR's /v2.
    v2Host: (host) => (host === HOST ? v2.host : host),
  });
});
afterAll(async () => {
  ecr?.stop();
  admin?.destroy();
  await Promise.all([moto?.stop(), v2?.stop()]);
});

/** The exact manifest bytes of an OCI layout image, as skopeo pushes them. */
const manifestOf = (image: { reference: string }, digest: string) => {
  const dir = image.reference.slice('oci:'.length).replace(/:[^:]*$/, '');
  return readFileSync(`${dir}/blobs/sha256/${digest.slice('sha256:'.length)}`, 'utf8');
};

/** Pushes an image to docker-registry (for /v2) and PutImage's the same manifest, digest and tags into moto. */
async function push(repository: string, image: OciImage, tags: string[]) {
  skopeoPush(image, `${v2.host}/${repository}:${tags[0] ?? 'x'}`);
  for (const tag of tags) {
    await admin.send(
      new PutImageCommand({
        repositoryName: repository,
        imageManifest: manifestOf(image, image.manifestDigest),
        imageManifestMediaType: MANIFEST,
        imageDigest: image.manifestDigest,
        imageTag: tag,
      }),
    );
  }
}

describe('EcrRegistryClient against moto (ECR API) and docker-registry (as ECR /v2)', () => {
  it('resolves a tag with DescribeImages, null for a missing tag or repository, and follows a re-tag', async () => {
    await admin.send(new CreateRepositoryCommand({ repositoryName: 'ecr/resolve' }));
    const first = writeOciImage('1.0.0');
    const second = writeOciImage('1.1.0');
    await push('ecr/resolve', first, ['stable']);
    const repo = { registry: HOST, repository: 'ecr/resolve' };

    expect(await ecr.resolveTag(repo, 'stable')).toEqual({
      digest: first.manifestDigest,
      mediaType: MANIFEST,
    });
    expect(await ecr.resolveTag(repo, 'missing')).toBeNull();
    expect(
      await ecr.resolveTag({ registry: HOST, repository: 'ecr/no-such-repo' }, 'stable'),
    ).toBeNull();

    await push('ecr/resolve', second, ['stable']);
    expect((await ecr.resolveTag(repo, 'stable'))?.digest).toBe(second.manifestDigest);
  });

  it('describes a digest: tags and push time from ECR, labels, created and platform from the config', async () => {
    await admin.send(new CreateRepositoryCommand({ repositoryName: 'ecr/describe' }));
    const image = writeOciImage('2.0.0', {
      labels: { 'org.opencontainers.image.revision': 'abc123' },
      created: '2026-05-06T07:08:09Z',
      architecture: 'arm64',
    });
    const before = Date.now();
    await push('ecr/describe', image, ['2.0.0', 'prod']);
    const repo = { registry: HOST, repository: 'ecr/describe' };

    const details = await ecr.describe(repo, image.manifestDigest);
    expect(details).toMatchObject({
      digest: image.manifestDigest,
      mediaType: MANIFEST,
      platforms: [{ os: 'linux', architecture: 'arm64' }],
      labels: { 'org.opencontainers.image.revision': 'abc123' },
      created: '2026-05-06T07:08:09Z',
    });
    expect([...(details.tags ?? [])].sort()).toEqual(['2.0.0', 'prod']);
    // moto records push time in whole seconds.
    expect(Date.parse(details.pushedAt ?? '')).toBeGreaterThanOrEqual(
      Math.floor(before / 1000) * 1000,
    );

    await expect(ecr.describe(repo, `sha256:${'0'.repeat(64)}`)).rejects.toBeInstanceOf(
      ImageNotFoundError,
    );
  });

  it('describes a multi-arch index from BatchGetImage, labels from its linux/amd64 entry', async () => {
    await admin.send(new CreateRepositoryCommand({ repositoryName: 'ecr/multiarch' }));
    const index = writeOciIndex('3.0.0', [
      { architecture: 'amd64', labels: { arch: 'amd64' } },
      { architecture: 'arm64', variant: 'v8', labels: { arch: 'arm64' } },
    ]);
    skopeoPush(index, `${v2.host}/ecr/multiarch:3.0.0`, { all: true });
    await admin.send(
      new PutImageCommand({
        repositoryName: 'ecr/multiarch',
        imageManifest: manifestOf(index, index.indexDigest),
        imageManifestMediaType: 'application/vnd.oci.image.index.v1+json',
        imageDigest: index.indexDigest,
        imageTag: '3.0.0',
      }),
    );
    const repo = { registry: HOST, repository: 'ecr/multiarch' };
    expect(await ecr.resolveTag(repo, '3.0.0')).toEqual({
      digest: index.indexDigest,
      mediaType: 'application/vnd.oci.image.index.v1+json',
    });
    expect(await ecr.describe(repo, index.indexDigest)).toMatchObject({
      platforms: [
        { os: 'linux', architecture: 'amd64' },
        { os: 'linux', architecture: 'arm64', variant: 'v8' },
      ],
      labels: { arch: 'amd64' },
    });
  });

  it('lists the tags of a digest from one DescribeImages, filtered', async () => {
    await admin.send(new CreateRepositoryCommand({ repositoryName: 'ecr/tags' }));
    const a = writeOciImage('a');
    const b = writeOciImage('b');
    await push('ecr/tags', a, ['1.4.2', 'staging', '1.4']);
    await push('ecr/tags', b, ['1.5.0']);
    const repo = { registry: HOST, repository: 'ecr/tags' };
    const semver = (tag: string) => /^\d+\.\d+\.\d+$/.test(tag);

    expect(await ecr.tagsOf(repo, a.manifestDigest, semver)).toEqual(['1.4.2']);
    expect(await ecr.tagsOf(repo, a.manifestDigest, () => true)).toEqual([
      'staging',
      '1.4.2',
      '1.4',
    ]);
    expect(await ecr.tagsOf(repo, b.manifestDigest, () => true)).toEqual(['1.5.0']);
    expect(await ecr.tagsOf(repo, `sha256:${'0'.repeat(64)}`, () => true)).toEqual([]);
  });

  it('scan findings: pending before a scan, complete with severity counts after StartImageScan', async () => {
    await admin.send(new CreateRepositoryCommand({ repositoryName: 'ecr/scan' }));
    const image = writeOciImage('scan');
    await push('ecr/scan', image, ['1.0.0']);
    const repo = { registry: HOST, repository: 'ecr/scan' };

    expect(await ecr.scanFindings(repo, image.manifestDigest)).toEqual({ status: 'pending' });
    await admin.send(
      new StartImageScanCommand({
        repositoryName: 'ecr/scan',
        imageId: { imageDigest: image.manifestDigest },
      }),
    );
    // moto's canned result for a scanned image: one HIGH finding.
    expect(await ecr.scanFindings(repo, image.manifestDigest)).toEqual({
      status: 'complete',
      severityCounts: { HIGH: 1 },
    });
    await expect(ecr.scanFindings(repo, `sha256:${'0'.repeat(64)}`)).rejects.toBeInstanceOf(
      ImageNotFoundError,
    );
  });

  it('maps the host to registry id and region: one ECR client per region, other hosts refused', async () => {
    const otherRegion = {
      registry: '123456789012.dkr.ecr.eu-west-1.amazonaws.com',
      repository: 'ecr/resolve',
    };
    // moto keeps regions apart: the repository made in us-east-1 does not exist in eu-west-1.
    expect(await ecr.resolveTag(otherRegion, 'stable')).toBeNull();
    // Another account id in the host is sent as registryId: moto has no such registry's repository.
    expect(
      await ecr.resolveTag(
        {
          registry: `210987654321.dkr.ecr.${MOTO_AWS.region}.amazonaws.com`,
          repository: 'ecr/resolve',
        },
        'stable',
      ),
    ).toBeNull();
    expect(regionsAsked).toEqual([MOTO_AWS.region, 'eu-west-1']);
    const error = await ecr
      .resolveTag({ registry: 'ghcr.io', repository: 'a/b' }, 'x')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryError);
    expect((error as Error).message).toBe('ghcr.io is not an ECR registry host');
  });

  it('an unreachable ECR endpoint is a transient RegistryError', async () => {
    const down = new EcrRegistryClient({ ...MOTO_AWS, endpoint: 'http://127.0.0.1:9' });
    const error = await down
      .resolveTag({ registry: HOST, repository: 'ecr/resolve' }, 'stable')
      .catch((e: unknown) => e);
    down.stop();
    expect(error).toBeInstanceOf(RegistryError);
    expect((error as RegistryError).transient).toBe(true);
  });

  it('reads /v2 with Basic AWS:<token> from GetAuthorizationToken, answering the registry challenge', async () => {
    await admin.send(new CreateRepositoryCommand({ repositoryName: 'ecr/auth' }));
    const sha = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;
    const config = JSON.stringify({
      os: 'linux',
      architecture: 'amd64',
      config: { Labels: { via: 'v2' } },
    });
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: MANIFEST,
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: sha(config),
        size: config.length,
      },
      layers: [
        { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha('layer'), size: 5 },
      ],
    });
    await admin.send(
      new PutImageCommand({
        repositoryName: 'ecr/auth',
        imageManifest: manifest,
        imageDigest: sha(manifest),
        imageTag: 'x',
      }),
    );
    // moto's token is base64("AWS:<account>-auth-token"); ECR's /v2 wants it as Basic.
    const expected = `Basic ${Buffer.from('AWS:123456789012-auth-token').toString('base64')}`;
    const peer = await ProtocolPeer.start((req, res) => {
      if (req.headers.authorization !== expected) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="ecr"' });
        return res.end();
      }
      const body = req.url?.includes('/blobs/') ? config : manifest;
      res.writeHead(200, {
        'content-type': req.url?.includes('/blobs/') ? 'application/octet-stream' : MANIFEST,
      });
      res.end(body);
    });
    const viaPeer = new EcrRegistryClient({
      ...MOTO_AWS,
      endpoint: moto.endpoint,
      v2Host: () => peer.host,
    });
    try {
      const details = await viaPeer.describe(
        { registry: HOST, repository: 'ecr/auth' },
        sha(manifest),
      );
      expect(details.labels).toEqual({ via: 'v2' });
      expect(peer.requests.map((r) => r.authorization)).toEqual([undefined, expected, expected]);
    } finally {
      viaPeer.stop();
      await peer.stop();
    }
  });

  it('looks for cosign signatures over /v2 (none stored: no signature; a bad key: a reason)', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    await admin.send(new CreateRepositoryCommand({ repositoryName: 'ecr/signed' }));
    const image = writeOciImage('signed');
    await push('ecr/signed', image, ['1.0.0']);
    const repo = { registry: HOST, repository: 'ecr/signed' };
    expect(await ecr.verifySignature(repo, image.manifestDigest, 'not a key')).toMatchObject({
      verified: false,
    });
    const keys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const publicPem = keys.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(await ecr.verifySignature(repo, image.manifestDigest, publicPem)).toEqual({
      verified: false,
      reason: 'no signature',
    });
  });
});
