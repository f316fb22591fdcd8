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
  const { manifest, config } = writeImageBlobs(dir, tag, options);
  writeLayout(dir, tag, { mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest });
  return {
    reference: `oci:${dir}:${tag}`,
    manifestDigest: manifest.digest,
    configDigest: config.digest,
  };
}

export interface OciIndex {
  /** `oci:<dir>:<tag>`; push it with `skopeoPush(index, dest, { all: true })`. */
  reference: string;
  indexDigest: string;
  /** One per entry of `platforms`, in order. */
  manifestDigests: string[];
}

/**
 * Writes a multi-platform OCI image index (one single-layer image per entry, each with its own
 * architecture, labels and creation time) to a fresh OCI layout, tagged `tag`.
 */
export function writeOciIndex(
  tag: string,
  platforms: (OciImageOptions & { architecture: string; variant?: string })[],
): OciIndex {
  const dir = mkdtempSync(join(tmpdir(), 'cvm-oci-'));
  const entries = platforms.map((options, i) => {
    const { manifest } = writeImageBlobs(dir, `${tag}-${i}`, options);
    return {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      ...manifest,
      platform: {
        os: 'linux',
        architecture: options.architecture,
        ...(options.variant ? { variant: options.variant } : {}),
      },
    };
  });
  const index = putBlob(
    join(dir, 'blobs', 'sha256'),
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: entries,
    }),
  );
  writeLayout(dir, tag, { mediaType: 'application/vnd.oci.image.index.v1+json', ...index });
  return {
    reference: `oci:${dir}:${tag}`,
    indexDigest: index.digest,
    manifestDigests: entries.map((e) => e.digest),
  };
}

function putBlob(blobs: string, data: Buffer | string) {
  const digest = sha256(data);
  writeFileSync(join(blobs, digest.slice('sha256:'.length)), data);
  return { digest, size: Buffer.byteLength(data) };
}

function writeImageBlobs(dir: string, tag: string, options: OciImageOptions) {
  const blobs = join(dir, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
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
  const layer = putBlob(blobs, gzipSync(tar));
  const config = putBlob(
    blobs,
    JSON.stringify({
      architecture: options.architecture ?? 'amd64',
      os: 'linux',
      created: options.created ?? '2026-01-01T00:00:00Z',
      config: { Labels: options.labels ?? {} },
      rootfs: { type: 'layers', diff_ids: [sha256(tar)] },
    }),
  );
  const manifest = putBlob(
    blobs,
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...layer }],
    }),
  );
  return { manifest, config };
}

function writeLayout(
  dir: string,
  tag: string,
  descriptor: { mediaType: string; digest: string; size: number },
): void {
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{ ...descriptor, annotations: { 'org.opencontainers.image.ref.name': tag } }],
    }),
  );
}

export interface SkopeoPushOptions {
  /** `user:password` for a registry that requires auth. */
  destCreds?: string;
  /** Copy an index with all its images (`--all`). */
  all?: boolean;
}

/** `skopeo copy` of an OCI layout image (or index) to a plain-HTTP registry. */
export function skopeoPush(
  image: { reference: string },
  destination: string,
  options: SkopeoPushOptions = {},
): void {
  execFileSync(
    'skopeo',
    [
      '--insecure-policy',
      'copy',
      '--quiet',
      '--dest-tls-verify=false',
      ...(options.destCreds ? ['--dest-creds', options.destCreds] : []),
      ...(options.all ? ['--all'] : []),
      image.reference,
      `docker://${destination}`,
    ],
    // Synchronous: a push that hangs would block the test's event loop and with it every timeout.
    { stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000, killSignal: 'SIGKILL' },
  );
}
