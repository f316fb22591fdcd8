import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OciRegistryClient } from '../../src/registry/oci-registry-client.js';
import { DockerRegistry } from '../support/docker-registry.js';
import { skopeoPush, writeOciImage } from '../support/oci-layout.js';

let registry: DockerRegistry;
beforeAll(async () => {
  registry = await DockerRegistry.start();
});
afterAll(async () => {
  await registry?.stop();
});

const sha256 = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;
const ecKeys = () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const pem = (key: KeyObject) => key.export({ type: 'spki', format: 'pem' }).toString();

async function putBlob(repository: string, data: Buffer): Promise<string> {
  const digest = sha256(data);
  const start = await fetch(`http://${registry.host}/v2/${repository}/blobs/uploads/`, {
    method: 'POST',
  });
  expect(start.status).toBe(202);
  const location = new URL(start.headers.get('location') ?? '', `http://${registry.host}`);
  location.searchParams.set('digest', digest);
  const put = await fetch(location, {
    method: 'PUT',
    body: data,
    headers: { 'content-type': 'application/octet-stream' },
  });
  expect(put.status).toBe(201);
  return digest;
}

/** Stores cosign key-based signatures of `digest` as `cosign sign --key` does: tag `sha256-<hex>.sig`. */
async function pushSignatures(
  repository: string,
  digest: string,
  layers: { payload: Buffer; signature: Buffer }[],
) {
  const config = Buffer.from(
    JSON.stringify({
      architecture: '',
      os: '',
      config: {},
      rootfs: { type: 'layers', diff_ids: [] },
    }),
  );
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: {
      mediaType: 'application/vnd.oci.image.config.v1+json',
      size: config.length,
      digest: await putBlob(repository, config),
    },
    layers: await Promise.all(
      layers.map(async ({ payload, signature }) => ({
        mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json',
        size: payload.length,
        digest: await putBlob(repository, payload),
        annotations: { 'dev.cosignproject.cosign/signature': signature.toString('base64') },
      })),
    ),
  };
  const response = await fetch(
    `http://${registry.host}/v2/${repository}/manifests/${digest.replace(':', '-')}.sig`,
    {
      method: 'PUT',
      body: JSON.stringify(manifest),
      headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
    },
  );
  expect(response.status).toBe(201);
}

const simpleSigning = (repository: string, digest: string) =>
  Buffer.from(
    JSON.stringify({
      critical: {
        identity: { 'docker-reference': `${registry.host}/${repository}` },
        image: { 'docker-manifest-digest': digest },
        type: 'cosign container image signature',
      },
      optional: null,
    }),
  );

async function pushedImage(repository: string, tag: string) {
  const image = writeOciImage(tag);
  skopeoPush(image, `${registry.host}/${repository}:${tag}`);
  return image.manifestDigest;
}

describe('OciRegistryClient.verifySignature (cosign key-based, on docker-registry)', () => {
  const oci = new OciRegistryClient();

  it('an ECDSA P-256 signature over the simple-signing payload verifies with the public key', async () => {
    const repository = 'cosign/ecdsa';
    const digest = await pushedImage(repository, 'signed');
    const keys = ecKeys();
    const payload = simpleSigning(repository, digest);
    await pushSignatures(repository, digest, [
      { payload, signature: sign('sha256', payload, keys.privateKey) },
    ]);
    const repo = { registry: registry.host, repository };

    expect(await oci.verifySignature(repo, digest, pem(keys.publicKey))).toEqual({
      verified: true,
    });
    expect(await oci.verifySignature(repo, digest, pem(ecKeys().publicKey))).toEqual({
      verified: false,
      reason: 'signature does not verify with the configured public key',
    });
  });

  it('an RSA signature verifies too; one good signature among several is enough', async () => {
    const repository = 'cosign/rsa';
    const digest = await pushedImage(repository, 'signed');
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const payload = simpleSigning(repository, digest);
    await pushSignatures(repository, digest, [
      { payload, signature: sign('sha256', payload, ecKeys().privateKey) },
      { payload, signature: sign('sha256', payload, rsa.privateKey) },
    ]);
    expect(
      await oci.verifySignature(
        { registry: registry.host, repository },
        digest,
        pem(rsa.publicKey),
      ),
    ).toEqual({
      verified: true,
    });
  });

  it('an unsigned image has no signature', async () => {
    const repository = 'cosign/unsigned';
    const digest = await pushedImage(repository, 'plain');
    expect(
      await oci.verifySignature(
        { registry: registry.host, repository },
        digest,
        pem(ecKeys().publicKey),
      ),
    ).toEqual({
      verified: false,
      reason: 'no signature',
    });
  });

  it('a valid signature for another digest, copied under this digest’s tag, is refused', async () => {
    const repository = 'cosign/replayed';
    const digest = await pushedImage(repository, 'target');
    const other = await pushedImage(repository, 'other');
    const keys = ecKeys();
    const payload = simpleSigning(repository, other);
    await pushSignatures(repository, digest, [
      { payload, signature: sign('sha256', payload, keys.privateKey) },
    ]);
    expect(
      await oci.verifySignature(
        { registry: registry.host, repository },
        digest,
        pem(keys.publicKey),
      ),
    ).toEqual({
      verified: false,
      reason: `signed payload names ${other}, not ${digest}`,
    });
  });

  it('a key that is not a PEM public key is a reason, not a crash', async () => {
    const check = await oci.verifySignature(
      { registry: registry.host, repository: 'cosign/unsigned' },
      `sha256:${'1'.repeat(64)}`,
      'not a key',
    );
    expect(check.verified).toBe(false);
    expect(check.verified === false && check.reason).toMatch(/^public key is not a PEM public key/);
  });
});
