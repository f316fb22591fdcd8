import {
  BatchGetImageCommand,
  DescribeImageScanFindingsCommand,
  DescribeImagesCommand,
  ECRClient,
  GetAuthorizationTokenCommand,
  PutImageCommand,
  type ImageDetail,
  type ImageIdentifier,
} from '@aws-sdk/client-ecr';
import { ecrError } from './ecr-errors.js';
import { parseEcrHost, type EcrRegistry } from './ecr-host.js';
import { indexPlatforms, MANIFEST_ACCEPT, parseManifest, preferredEntry } from './oci-manifest.js';
import { OciRegistryClient, type OciRegistryClientOptions } from './oci-registry-client.js';
import {
  assertValidTag,
  ImageNotFoundError,
  RegistryError,
  type ImageDetails,
  type MoveTagOptions,
  type RegistryClient,
  type TagMove,
  type TagWriter,
  type RegistryCredentials,
  type RepositoryRef,
  type ResolvedTag,
  type ScanReport,
  type SignatureCheck,
} from './registry-client.js';
import { ecrScanReport } from './ecr-scan-report.js';

export interface EcrRegistryClientOptions {
  /** ECR API endpoint for every region, e.g. moto's `http://127.0.0.1:<port>`. Default: AWS's. */
  endpoint?: string;
  /** AWS credentials. Default: the SDK's default chain (env, web identity/IRSA, instance role, …). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Makes the ECR client of a region. Default: `new ECRClient({ region, endpoint, credentials })`. */
  ecrClient?: (region: string) => ECRClient;
  /**
   * Host answering `/v2` for an ECR host (config blobs, cosign signatures), with the
   * GetAuthorizationToken credentials. Default: the ECR host itself.
   */
  v2Host?: (ecrHost: string) => string;
  /** Options of the `/v2` client (timeouts, insecure hosts, metrics); `credentials` is set here. */
  oci?: Omit<OciRegistryClientOptions, 'credentials'>;
  /** Clock for token expiry, ms since the epoch. Default `Date.now`. */
  now?: () => number;
}

/** Renew GetAuthorizationToken tokens (valid 12 h) this long before they expire. */
const TOKEN_RENEW_EARLY_MS = 60 * 60 * 1000;

interface CachedToken extends RegistryCredentials {
  expiresAtMs: number;
}

/**
 * `RegistryClient` for Amazon ECR: tags, digests, push times and scan findings from the ECR API
 * (one DescribeImages per question); manifests from BatchGetImage; the image config (labels,
 * created, single-image platform) and cosign signatures over ECR's `/v2` API with Basic
 * `AWS:<token>` from GetAuthorizationToken, cached until an hour before it expires. Tags move with
 * BatchGetImage and PutImage of the same manifest string.
 */
export class EcrRegistryClient implements RegistryClient, TagWriter {
  readonly #clients = new Map<string, ECRClient>();
  readonly #tokens = new Map<string, CachedToken>();
  /** `/v2` host → the region whose token opens it. */
  readonly #v2Regions = new Map<string, string>();
  readonly #oci: OciRegistryClient;
  readonly #now: () => number;

  constructor(private readonly options: EcrRegistryClientOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#oci = new OciRegistryClient({
      ...options.oci,
      credentials: (host) => {
        const region = this.#v2Regions.get(host);
        return region === undefined ? undefined : this.#tokens.get(region);
      },
    });
  }

  async resolveTag(repo: RepositoryRef, tag: string): Promise<ResolvedTag | null> {
    const detail = await this.#describeImage(repo, { imageTag: tag });
    if (!detail?.imageDigest) return null;
    return { digest: detail.imageDigest, mediaType: detail.imageManifestMediaType ?? '' };
  }

  async describe(repo: RepositoryRef, digest: string): Promise<ImageDetails> {
    const detail = await this.#describeImage(repo, { imageDigest: digest });
    if (!detail)
      throw new ImageNotFoundError(`${repo.registry}/${repo.repository}@${digest} does not exist`);
    const manifestText = await this.#manifest(repo, digest);
    const manifest = parseManifest(
      manifestText,
      detail.imageManifestMediaType,
      `manifest ${repo.repository}@${digest}`,
    );
    const common = {
      digest,
      mediaType: detail.imageManifestMediaType ?? manifest.mediaType,
      ...(detail.imagePushedAt ? { pushedAt: detail.imagePushedAt.toISOString() } : {}),
      tags: detail.imageTags ?? [],
    };
    // The config blob is only on /v2: let the OCI client read it (and, for an index, the entry).
    const configSource = manifest.kind === 'index' ? preferredEntry(manifest.manifests) : digest;
    const image = configSource
      ? await this.#v2(repo, (oci, ref) => oci.describe(ref, configSource))
      : undefined;
    return {
      ...common,
      platforms:
        manifest.kind === 'index'
          ? indexPlatforms(manifest.manifests).map((e) => e.platform)
          : (image?.platforms ?? []),
      labels: image?.labels ?? {},
      ...(image?.created ? { created: image.created } : {}),
    };
  }

  /** One DescribeImages: ECR lists every tag of a digest, so `limit` is not needed to bound requests. */
  async tagsOf(
    repo: RepositoryRef,
    digest: string,
    filter: (tag: string) => boolean,
  ): Promise<string[]> {
    const detail = await this.#describeImage(repo, { imageDigest: digest });
    return (detail?.imageTags ?? [])
      .filter(filter)
      .sort((a, b) => b.localeCompare(a, 'en', { numeric: true }));
  }

  /**
   * BatchGetImage of `source` (every manifest and index type accepted, so ECR converts nothing),
   * DescribeImages of `tag`, and unless it is there already PutImage of the same manifest, media
   * type and digest under `tag`. `ImageAlreadyExistsException` means it was there already.
   */
  async moveTag(
    repo: RepositoryRef,
    source: string,
    tag: string,
    options: MoveTagOptions = {},
  ): Promise<TagMove> {
    assertValidTag(tag);
    const image = await this.#image(
      repo,
      source.startsWith('sha256:') ? { imageDigest: source } : { imageTag: source },
    );
    const digest = image.digest;
    const current = await this.resolveTag(repo, tag);
    const previous = current ? { previousDigest: current.digest } : {};
    if (current?.digest === digest) return { tag, digest, ...previous, result: 'unchanged' };
    if (options.dryRun) return { tag, digest, ...previous, result: 'would-move' };
    const { client, registry } = this.#client(repo);
    let stored: string | undefined;
    try {
      const response = await client.send(
        new PutImageCommand({
          registryId: registry.registryId,
          repositoryName: repo.repository,
          imageManifest: image.manifest,
          ...(image.mediaType ? { imageManifestMediaType: image.mediaType } : {}),
          imageDigest: digest,
          imageTag: tag,
        }),
      );
      stored = response.image?.imageId?.imageDigest;
    } catch (error) {
      // A concurrent writer (or a retry) got there first: the tag is at this digest.
      if (nameOf(error) === 'ImageAlreadyExistsException')
        return { tag, digest, ...previous, result: 'unchanged' };
      if (nameOf(error) === 'ImageTagAlreadyExistsException') {
        throw new RegistryError(
          `${repo.registry}/${repo.repository}:${tag} exists and the repository's tags are immutable`,
          false,
        );
      }
      throw ecrError(error, `PutImage ${repo.repository}:${tag}`);
    }
    if (stored && stored !== digest) {
      throw new RegistryError(
        `${repo.registry}/${repo.repository}:${tag} was stored as ${stored}, not ${digest}`,
        false,
      );
    }
    return { tag, digest, ...previous, result: 'moved' };
  }

  async scanFindings(repo: RepositoryRef, digest: string): Promise<ScanReport> {
    const { client, registry } = this.#client(repo);
    try {
      const response = await client.send(
        new DescribeImageScanFindingsCommand({
          registryId: registry.registryId,
          repositoryName: repo.repository,
          imageId: { imageDigest: digest },
          maxResults: 1,
        }),
      );
      return ecrScanReport(response);
    } catch (error) {
      if (nameOf(error) === 'ScanNotFoundException') return { status: 'pending' };
      if (
        nameOf(error) === 'ImageNotFoundException' ||
        nameOf(error) === 'RepositoryNotFoundException'
      ) {
        throw new ImageNotFoundError(
          `${repo.registry}/${repo.repository}@${digest} does not exist`,
        );
      }
      throw ecrError(error, `DescribeImageScanFindings ${repo.repository}@${digest}`);
    }
  }

  verifySignature(
    repo: RepositoryRef,
    digest: string,
    publicKeyPem: string,
  ): Promise<SignatureCheck> {
    return this.#v2(repo, (oci, ref) => oci.verifySignature(ref, digest, publicKeyPem));
  }

  /** Destroys the per-region ECR clients (their sockets). Idempotent. */
  stop(): void {
    for (const client of this.#clients.values()) client.destroy();
    this.#clients.clear();
  }

  #client(repo: RepositoryRef): { client: ECRClient; registry: EcrRegistry } {
    const registry = parseEcrHost(repo.registry);
    if (!registry) throw new RegistryError(`${repo.registry} is not an ECR registry host`, false);
    let client = this.#clients.get(registry.region);
    if (!client) {
      const { endpoint, credentials } = this.options;
      client =
        this.options.ecrClient?.(registry.region) ??
        new ECRClient({
          region: registry.region,
          ...(endpoint ? { endpoint } : {}),
          ...(credentials ? { credentials } : {}),
        });
      this.#clients.set(registry.region, client);
    }
    return { client, registry };
  }

  /** The image's details, or `null` when the repository or image does not exist. */
  async #describeImage(repo: RepositoryRef, imageId: ImageIdentifier): Promise<ImageDetail | null> {
    const { client, registry } = this.#client(repo);
    try {
      const response = await client.send(
        new DescribeImagesCommand({
          registryId: registry.registryId,
          repositoryName: repo.repository,
          imageIds: [imageId],
        }),
      );
      return response.imageDetails?.[0] ?? null;
    } catch (error) {
      if (
        nameOf(error) === 'ImageNotFoundException' ||
        nameOf(error) === 'RepositoryNotFoundException'
      )
        return null;
      throw ecrError(error, `DescribeImages ${repo.repository} ${JSON.stringify(imageId)}`);
    }
  }

  async #manifest(repo: RepositoryRef, digest: string): Promise<string> {
    return (await this.#image(repo, { imageDigest: digest })).manifest;
  }

  /** The manifest string, its media type and digest, by tag or digest. @throws ImageNotFoundError */
  async #image(
    repo: RepositoryRef,
    imageId: ImageIdentifier,
  ): Promise<{ manifest: string; mediaType?: string; digest: string }> {
    const { client, registry } = this.#client(repo);
    const what = `${repo.repository}${imageId.imageDigest ? `@${imageId.imageDigest}` : `:${imageId.imageTag ?? ''}`}`;
    let response;
    try {
      response = await client.send(
        new BatchGetImageCommand({
          registryId: registry.registryId,
          repositoryName: repo.repository,
          imageIds: [imageId],
          // All four, or ECR may convert an index into one platform's manifest.
          acceptedMediaTypes: [...MANIFEST_ACCEPT],
        }),
      );
    } catch (error) {
      if (nameOf(error) === 'RepositoryNotFoundException')
        throw new ImageNotFoundError(`${repo.registry}/${repo.repository} does not exist`);
      throw ecrError(error, `BatchGetImage ${what}`);
    }
    const image = response.images?.[0];
    const digest = image?.imageId?.imageDigest ?? imageId.imageDigest;
    if (image?.imageManifest && digest) {
      return {
        manifest: image.imageManifest,
        digest,
        ...(image.imageManifestMediaType ? { mediaType: image.imageManifestMediaType } : {}),
      };
    }
    const failure = response.failures?.[0];
    if (
      !failure ||
      failure.failureCode === 'ImageNotFound' ||
      failure.failureCode === 'ImageTagDoesNotMatchDigest'
    ) {
      throw new ImageNotFoundError(`${repo.registry}/${what} does not exist`);
    }
    const transient =
      failure.failureCode?.startsWith('Upstream') === true || failure.failureCode === 'KmsError';
    throw new RegistryError(
      `BatchGetImage ${what}: ${failure.failureCode ?? 'unknown'} ${failure.failureReason ?? ''}`.trim(),
      transient,
    );
  }

  /** Runs an OCI client call against the registry's `/v2` host with a fresh-enough ECR token. */
  async #v2<T>(
    repo: RepositoryRef,
    call: (oci: OciRegistryClient, ref: RepositoryRef) => Promise<T>,
  ): Promise<T> {
    const { registry } = this.#client(repo);
    const host = this.options.v2Host?.(repo.registry) ?? repo.registry;
    this.#v2Regions.set(host, registry.region);
    await this.#token(repo);
    return call(this.#oci, { registry: host, repository: repo.repository });
  }

  async #token(repo: RepositoryRef): Promise<void> {
    const { client, registry } = this.#client(repo);
    const cached = this.#tokens.get(registry.region);
    if (cached && cached.expiresAtMs > this.#now()) return;
    let data;
    try {
      data = (await client.send(new GetAuthorizationTokenCommand({}))).authorizationData?.[0];
    } catch (error) {
      throw ecrError(error, `GetAuthorizationToken in ${registry.region}`);
    }
    const decoded = Buffer.from(data?.authorizationToken ?? '', 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0)
      throw new RegistryError(
        `GetAuthorizationToken in ${registry.region} returned no usable token`,
        false,
      );
    const expiresAtMs = data?.expiresAt?.getTime() ?? this.#now();
    const lifetimeMs = expiresAtMs - this.#now();
    this.#tokens.set(registry.region, {
      username: decoded.slice(0, colon),
      password: decoded.slice(colon + 1),
      expiresAtMs: expiresAtMs - Math.min(TOKEN_RENEW_EARLY_MS, Math.max(0, lifetimeMs / 2)),
    });
  }
}

const nameOf = (error: unknown) =>
  typeof error === 'object' && error !== null && 'name' in error ? String(error.name) : '';
