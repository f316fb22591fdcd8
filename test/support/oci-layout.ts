import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

export interface OciImageOptions {
  /** Files of the single layer, path → content. */
  files?: Record<string, string>;
  labels?: Record<string, string>;
  /** RFC 3339 creation time in the config. */
  created?: string;
  architecture?: string;
}

export interface OciImage {
  /** `oci:<dir>:<tag>`, what skopeo reads. */
  reference: string;
  manifestDigest: string;
  configDigest: string;
}

const sha256 = (data: Buffer | string) =>
  `sha256:${createHash('sha256').update(data).digest('hex')}`;

/**
 * Writes a one-layer OCI image layout to a fresh temp directory, for `skopeo copy` to push. The
 * manifest digest it returns is what the registry will report, since skopeo copies the manifest
 * unchanged between OCI transports.
 */
export function writeOciImage(tag: string, options: OciImageOptions = {}): OciImage {
  const dir = mkdtempSync(join(tmpdir(), 'cvm-oci-'));
  const blobs = join(dir, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  const putBlob = (data: Buffer | string) => {
    const digest = sha256(data);
    writeFileSync(join(blobs, digest.slice('sha256:'.length)), data);
    return { digest, size: Buffer.byteLength(data) };
  };

  const rootfs = mkdtempSync(join(tmpdir(), 'cvm-rootfs-'));
  for (const [path, content] of Object.entries(options.files ?? { 'app/version.txt': tag })) {
    mkdirSync(join(rootfs, path, '..'), { recursive: true });
    writeFileSync(join(rootfs, path), content);
  }
  const tar = execFileSync('tar', [
    '--sort=name',
    '--mtime=@0',
    '--owner=0',
    '--group=0',
    '--numeric-owner',
    '-C',
    rootfs,
    '-cf',
    '-',
    '.',
  ]);
  const layer = putBlob(gzipSync(tar));
  const config = putBlob(
    JSON.stringify({
      architecture: options.architecture ?? 'amd64',
      os: 'linux',
      created: options.created ?? '2026-01-01T00:00:00Z',
      config: { Labels: options.labels ?? {} },
      rootfs: { type: 'layers', diff_ids: [sha256(tar)] },
    }),
  );
  const manifest = putBlob(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...layer }],
    }),
  );
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          ...manifest,
          annotations: { 'org.opencontainers.image.ref.name': tag },
        },
      ],
    }),
  );
  return {
    reference: `oci:${dir}:${tag}`,
    manifestDigest: manifest.digest,
    configDigest: config.digest,
  };
}

/** `skopeo copy` of an OCI layout image to a plain-HTTP registry. */
export function skopeoPush(image: OciImage, destination: string): void {
  execFileSync(
    'skopeo',
    [
      '--insecure-policy',
      'copy',
      '--quiet',
      '--dest-tls-verify=false',
      image.reference,
      `docker://${destination}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
}
