import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { expect } from 'vitest';

const sha256 = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

/** An ECDSA P-256 key pair, as `cosign generate-key-pair` makes. */
export const ecKeys = () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
export const pem = (key: KeyObject) => key.export({ type: 'spki', format: 'pem' }).toString();

/** Uploads a blob to a plain-HTTP registry (`host` = `127.0.0.1:<port>`). */
export async function putBlob(host: string, repository: string, data: Buffer): Promise<string> {
  const digest = sha256(data);
  const start = await fetch(`http://${host}/v2/${repository}/blobs/uploads/`, { method: 'POST' });
  expect(start.status).toBe(202);
  const location = new URL(start.headers.get('location') ?? '', `http://${host}`);
  location.searchParams.set('digest', digest);
  const put = await fetch(location, {
    method: 'PUT',
    body: data,
    headers: { 'content-type': 'application/octet-stream' },
  });
  expect(put.status).toBe(201);
  return digest;
}

/** The "simple signing" payload cosign signs for an image digest. */
export const simpleSigning = (host: string, repository: string, digest: string) =>
  Buffer.from(
    JSON.stringify({
      critical: {
        identity: { 'docker-reference': `${host}/${repository}` },
        image: { 'docker-manifest-digest': digest },
        type: 'cosign container image signature',
      },
      optional: null,
    }),
  );

/** Stores cosign key-based signatures of `digest` as `cosign sign --key` does: tag `sha256-<hex>.sig`. */
export async function pushSignatures(
  host: string,
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
      digest: await putBlob(host, repository, config),
    },
    layers: await Promise.all(
      layers.map(async ({ payload, signature }) => ({
        mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json',
        size: payload.length,
        digest: await putBlob(host, repository, payload),
        annotations: { 'dev.cosignproject.cosign/signature': signature.toString('base64') },
      })),
    ),
  };
  const response = await fetch(
    `http://${host}/v2/${repository}/manifests/${digest.replace(':', '-')}.sig`,
    {
      method: 'PUT',
      body: JSON.stringify(manifest),
      headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
    },
  );
  expect(response.status).toBe(201);
}

/** Signs `digest` with `privateKey` the way `cosign sign --key` does, in the registry. */
export async function cosignSign(
  host: string,
  repository: string,
  digest: string,
  privateKey: KeyObject,
): Promise<void> {
  const payload = simpleSigning(host, repository, digest);
  await pushSignatures(host, repository, digest, [
    { payload, signature: sign('sha256', payload, privateKey) },
  ]);
}
