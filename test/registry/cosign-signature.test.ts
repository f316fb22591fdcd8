import { generateKeyPairSync, sign } from 'node:crypto';
import {
  ecKeys,
  pem,
  pushSignatures as pushSignaturesTo,
  simpleSigning as simpleSigningFor,
} from '../support/cosign.js';
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

const pushSignatures = (
  repository: string,
  digest: string,
  layers: { payload: Buffer; signature: Buffer }[],
) => pushSignaturesTo(registry.host, repository, digest, layers);
const simpleSigning = (repository: string, digest: string) =>
  simpleSigningFor(registry.host, repository, digest);

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
