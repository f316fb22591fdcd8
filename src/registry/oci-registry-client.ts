import {
  checkSimpleSigning,
  parsePublicKey,
  SIGNATURE_ANNOTATION,
  signatureTag,
  SIMPLE_SIGNING_MEDIA_TYPE,
} from './cosign-signature.js';
import {
  indexPlatforms,
  MANIFEST_ACCEPT,
  parseImageConfig,
  parseManifest,
  preferredEntry,
  sha256Digest,
  type ParsedManifest,
} from './oci-manifest.js';
import {
  assertValidTag,
  ImageNotFoundError,
  RegistryError,
  type ImageDetails,
  type MoveTagOptions,
  type RegistryClient,
  type TagMove,
  type TagWriter,
  type RepositoryRef,
  type ResolvedTag,
  type ScanReport,
  type SignatureCheck,
} from './registry-client.js';
import { RegistryHttp, type RegistryHttpOptions } from './registry-http.js';

export interface OciRegistryClientOptions extends RegistryHttpOptions {
  /** Page size (`n=`) of tag listing. Default 100. */
  tagPageSize?: number;
  /** Most pages of tags read per `tagsOf`; the rest are ignored. Default 50. */
  maxTagPages?: number;
  /**
   * Descriptions of digests kept (least recently used dropped first). A digest names its
   * manifest's exact bytes and the manifest names its config by digest, so a description never
   * changes. Default 1000; 0 keeps none.
   */
  describeCacheSize?: number;
}

const DEFAULT_TAG_LIMIT = 50;
/** Config blobs and signature payloads are small; anything bigger is not what we asked for. */
const MAX_BLOB_BYTES = 4 * 1024 * 1024;
const ACCEPT = MANIFEST_ACCEPT.join(', ');

interface FetchedManifest {
  bytes: Buffer;
  /** The Content-Type the registry served it with (without parameters). */
  contentType: string;
  text: string;
  digest: string;
  manifest: ParsedManifest;
}

/**
 * `RegistryClient` over the OCI Distribution v2 HTTP API (docker-registry, Docker Hub, GHCR,
 * Harbor, Quay, GAR, …). Tags resolve with HEAD only (free of Docker Hub's pull limit); manifests
 * fetched by digest are checked against it. No vulnerability scanner: `scanFindings` says
 * `unsupported`. Signatures: cosign key-based `.sig` tags. Tags move by a manifest PUT of the
 * exact bytes read (push scope).
 */
export class OciRegistryClient implements RegistryClient, TagWriter {
  readonly #http: RegistryHttp;
  readonly #tagPageSize: number;
  readonly #maxTagPages: number;
  readonly #described: LruCache<Promise<ImageDetails>>;

  constructor(options: OciRegistryClientOptions = {}) {
    this.#http = new RegistryHttp(options);
    this.#tagPageSize = options.tagPageSize ?? 100;
    this.#maxTagPages = options.maxTagPages ?? 50;
    this.#described = new LruCache(options.describeCacheSize ?? 1000);
  }

  async resolveTag(repo: RepositoryRef, tag: string): Promise<ResolvedTag | null> {
    const response = await this.#http.send({
      method: 'HEAD',
      registry: repo.registry,
      repository: repo.repository,
      path: manifestPath(repo, tag),
      accept: ACCEPT,
    });
    if (response.status === 404) return null;
    const digest = response.headers.get('docker-content-digest');
    const mediaType = contentType(response);
    if (digest?.startsWith('sha256:') && mediaType) return { digest, mediaType };
    // Older registries omit the digest on HEAD: hash the exact bytes of a GET instead.
    const fetched = await this.#manifest(repo, tag);
    return fetched && { digest: fetched.digest, mediaType: fetched.manifest.mediaType };
  }

  /**
   * Manifest and config of a digest, read once per repository and digest while it stays among
   * the `describeCacheSize` most recently described (content-addressed: it cannot change); a
   * read that failed is not kept. Concurrent calls for one digest share one read.
   */
  describe(repo: RepositoryRef, digest: string): Promise<ImageDetails> {
    const key = `${name(repo)}@${digest}`;
    const cached = this.#described.get(key);
    if (cached) return cached;
    const details = this.#describe(repo, digest);
    this.#described.set(key, details);
    details.catch(() => this.#described.delete(key, details));
    return details;
  }

  warm(repo: RepositoryRef, digest: string): void {
    this.describe(repo, digest).catch(() => undefined);
  }

  async #describe(repo: RepositoryRef, digest: string): Promise<ImageDetails> {
    const fetched = await this.#manifest(repo, digest);
    if (!fetched) throw new ImageNotFoundError(`${name(repo)}@${digest} does not exist`);
    const { manifest } = fetched;
    if (manifest.kind === 'image') {
      const config = await this.#config(repo, manifest.config.digest);
      return {
        digest,
        mediaType: manifest.mediaType,
        platforms: config.platform ? [config.platform] : [],
        labels: config.labels,
        ...(config.created ? { created: config.created } : {}),
      };
    }
    const platforms = indexPlatforms(manifest.manifests).map((e) => e.platform);
    const entry = preferredEntry(manifest.manifests);
    const child = entry ? await this.#manifest(repo, entry) : null;
    const config =
      child?.manifest.kind === 'image'
        ? await this.#config(repo, child.manifest.config.digest)
        : undefined;
    return {
      digest,
      mediaType: manifest.mediaType,
      platforms,
      labels: config?.labels ?? {},
      ...(config?.created ? { created: config.created } : {}),
    };
  }

  async tagsOf(
    repo: RepositoryRef,
    digest: string,
    filter: (tag: string) => boolean,
    limit: number = DEFAULT_TAG_LIMIT,
  ): Promise<string[]> {
    const candidates = (await this.#listTags(repo))
      .filter(filter)
      // Newest-looking first: "1.10.0" before "1.9.0", so the limit keeps the likely matches.
      .sort((a, b) => b.localeCompare(a, 'en', { numeric: true }))
      .slice(0, Math.max(0, limit));
    const matches: string[] = [];
    for (const tag of candidates) {
      const resolved = await this.resolveTag(repo, tag);
      if (resolved?.digest === digest) matches.push(tag);
    }
    return matches;
  }

  /** No scanner behind the Distribution API. */
  scanFindings(): Promise<ScanReport> {
    return Promise.resolve({ status: 'unsupported' });
  }

  async verifySignature(
    repo: RepositoryRef,
    digest: string,
    publicKeyPem: string,
  ): Promise<SignatureCheck> {
    const key = parsePublicKey(publicKeyPem);
    if (typeof key === 'string') return { verified: false, reason: key };
    const fetched = await this.#manifest(repo, signatureTag(digest));
    if (!fetched || fetched.manifest.kind !== 'image')
      return { verified: false, reason: 'no signature' };
    const signed = fetched.manifest.layers.filter(
      (l) => l.mediaType === SIMPLE_SIGNING_MEDIA_TYPE && l.annotations?.[SIGNATURE_ANNOTATION],
    );
    if (signed.length === 0) return { verified: false, reason: 'no signature' };
    let failure: SignatureCheck = { verified: false, reason: 'no signature' };
    for (const layer of signed) {
      const payload = await this.#blob(repo, layer.digest);
      const check = checkSimpleSigning(
        payload,
        layer.annotations?.[SIGNATURE_ANNOTATION] ?? '',
        digest,
        key,
      );
      if (check.verified) return check;
      failure = check;
    }
    return signed.length === 1
      ? failure
      : {
          verified: false,
          reason: `none of ${signed.length} signatures verifies; last: ${failure.verified ? '' : failure.reason}`,
        };
  }

  /**
   * GET of `source` with every manifest and index type accepted, a HEAD of `tag`, and unless it is
   * there already a PUT of the same bytes with their Content-Type to `/v2/<name>/manifests/<tag>`;
   * the `Docker-Content-Digest` answered must be the source's digest.
   */
  async moveTag(
    repo: RepositoryRef,
    source: string,
    tag: string,
    options: MoveTagOptions = {},
  ): Promise<TagMove> {
    assertValidTag(tag);
    const fetched = await this.#manifest(repo, source);
    if (!fetched) throw new ImageNotFoundError(`${name(repo)}:${source} does not exist`);
    const { digest } = fetched;
    const current = await this.resolveTag(repo, tag);
    const previous = current ? { previousDigest: current.digest } : {};
    if (current?.digest === digest) return { tag, digest, ...previous, result: 'unchanged' };
    if (options.dryRun) return { tag, digest, ...previous, result: 'would-move' };
    const response = await this.#http.send({
      method: 'PUT',
      registry: repo.registry,
      repository: repo.repository,
      path: manifestPath(repo, tag),
      push: true,
      body: fetched.bytes,
      contentType: fetched.contentType || fetched.manifest.mediaType,
    });
    await response.body?.cancel();
    if (response.status === 404)
      throw new RegistryError(`PUT of ${name(repo)}:${tag} answered 404`, false);
    const stored = response.headers.get('docker-content-digest');
    if (stored && stored !== digest) {
      throw new RegistryError(
        `${name(repo)}:${tag} was stored as ${stored}, not ${digest}: the registry changed the manifest`,
        false,
      );
    }
    return { tag, digest, ...previous, result: 'moved' };
  }

  /** The manifest for a tag or digest; `null` on 404. A digest reference is checked against the bytes. */
  async #manifest(repo: RepositoryRef, reference: string): Promise<FetchedManifest | null> {
    const response = await this.#http.send({
      method: 'GET',
      registry: repo.registry,
      repository: repo.repository,
      path: manifestPath(repo, reference),
      accept: ACCEPT,
    });
    if (response.status === 404) {
      await response.body?.cancel();
      return null;
    }
    const bytes = Buffer.from(await response.arrayBuffer());
    const digest = sha256Digest(bytes);
    const what = `manifest ${name(repo)}:${reference}`;
    if (reference.includes(':') && reference !== digest) {
      throw new RegistryError(
        `${what} has digest ${digest}: the registry served other bytes`,
        false,
      );
    }
    const text = bytes.toString('utf8');
    const type = contentType(response);
    return {
      bytes,
      contentType: type,
      text,
      digest,
      manifest: parseManifest(text, type, what),
    };
  }

  async #config(repo: RepositoryRef, digest: string) {
    const bytes = await this.#blob(repo, digest);
    return parseImageConfig(bytes.toString('utf8'), `config ${name(repo)}@${digest}`);
  }

  /** A blob's bytes, checked against its digest. @throws ImageNotFoundError on 404 */
  async #blob(repo: RepositoryRef, digest: string): Promise<Buffer> {
    const response = await this.#http.send({
      method: 'GET',
      registry: repo.registry,
      repository: repo.repository,
      path: `/v2/${repo.repository}/blobs/${digest}`,
    });
    if (response.status === 404) {
      await response.body?.cancel();
      throw new ImageNotFoundError(`blob ${name(repo)}@${digest} does not exist`);
    }
    const length = Number(response.headers.get('content-length') ?? 0);
    if (length > MAX_BLOB_BYTES) {
      await response.body?.cancel();
      throw new RegistryError(
        `blob ${name(repo)}@${digest} is ${length} bytes, more than cvm reads`,
        false,
      );
    }
    const bytes = Buffer.from(await response.arrayBuffer());
    if (sha256Digest(bytes) !== digest) {
      throw new RegistryError(`blob ${name(repo)}@${digest} does not match its digest`, false);
    }
    return bytes;
  }

  /** Every tag, following `Link: <…>; rel="next"` for at most `maxTagPages` pages. */
  async #listTags(repo: RepositoryRef): Promise<string[]> {
    const tags: string[] = [];
    let path: string | undefined = `/v2/${repo.repository}/tags/list?n=${this.#tagPageSize}`;
    for (let page = 0; path && page < this.#maxTagPages; page++) {
      const response = await this.#http.send({
        method: 'GET',
        registry: repo.registry,
        repository: repo.repository,
        path,
        accept: 'application/json',
      });
      if (response.status === 404) {
        await response.body?.cancel();
        return tags;
      }
      const body = (await response.json().catch(() => null)) as { tags?: unknown } | null;
      if (Array.isArray(body?.tags))
        tags.push(...body.tags.filter((t): t is string => typeof t === 'string'));
      path = nextPath(response.headers.get('link'), `${this.#http.baseUrl(repo.registry)}${path}`);
    }
    return tags;
  }
}

/** A bounded map whose least recently read or written entry goes first. */
class LruCache<V> {
  readonly #entries = new Map<string, V>();
  constructor(private readonly size: number) {}

  get(key: string): V | undefined {
    const value = this.#entries.get(key);
    if (value === undefined) return undefined;
    this.#entries.delete(key);
    this.#entries.set(key, value);
    return value;
  }

  set(key: string, value: V): void {
    if (this.size <= 0) return;
    this.#entries.delete(key);
    this.#entries.set(key, value);
    for (const oldest of this.#entries.keys()) {
      if (this.#entries.size <= this.size) break;
      this.#entries.delete(oldest);
    }
  }

  /** Removes `key` if it still holds `value`. */
  delete(key: string, value: V): void {
    if (this.#entries.get(key) === value) this.#entries.delete(key);
  }
}

const name = (repo: RepositoryRef) => `${repo.registry}/${repo.repository}`;
const manifestPath = (repo: RepositoryRef, reference: string) =>
  `/v2/${repo.repository}/manifests/${encodeURIComponent(reference).replace('%3A', ':')}`;
const contentType = (response: Response) =>
  response.headers.get('content-type')?.split(';')[0]?.trim() ?? '';

/** Path and query of the `rel="next"` link, resolved against the request URL; same origin only. */
export function nextPath(link: string | null, requestUrl: string): string | undefined {
  if (!link) return undefined;
  for (const part of link.split(',')) {
    const match = /<([^>]*)>\s*;(.*)/.exec(part.trim());
    if (!match?.[1] || !/rel="?next"?/i.test(match[2] ?? '')) continue;
    const next = new URL(match[1], requestUrl);
    if (next.origin !== new URL(requestUrl).origin) return undefined;
    return `${next.pathname}${next.search}`;
  }
  return undefined;
}
