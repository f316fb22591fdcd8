/**
 * What cvm asks of a container registry (DESIGN §4 steps 2–3, §5). Implementations: OCI
 * Distribution v2 (`oci-registry-client.ts`) and ECR (`ecr-registry-client.ts`); the
 * `RegistryClients` table picks one by host. Only `src/registry` talks to registries.
 */

/** A repository in a registry, normalized as in `src/events/image-ref.ts` (`docker.io`, `library/nginx`). */
export interface RepositoryRef {
  registry: string;
  repository: string;
}

export interface ResolvedTag {
  /** `sha256:…` of the manifest (or index) the tag points to now. */
  digest: string;
  mediaType: string;
}

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export interface ImageDetails {
  digest: string;
  mediaType: string;
  /** An index's platforms, or the one platform of a single manifest (from its config). */
  platforms: Platform[];
  /** Labels of the image config (for an index: of its linux/amd64 entry, else its first). */
  labels: Record<string, string>;
  /** `created` of the image config (RFC 3339), when present. */
  created?: string;
  /** When the registry received the image (ECR `imagePushedAt`), when it says. */
  pushedAt?: string;
  /** Tags that point at this digest, when the registry says so in one call (ECR). */
  tags?: string[];
}

export const SEVERITY_ORDER = ['NONE', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const;
export type Severity = (typeof SEVERITY_ORDER)[number];

export type ScanReport =
  /** Finished; counts per severity (missing = 0). INFORMATIONAL and UNDEFINED are not counted. */
  | { status: 'complete'; severityCounts: Partial<Record<Exclude<Severity, 'NONE'>, number>> }
  /** Not finished yet (or not started): ask again later. */
  | { status: 'pending' }
  | { status: 'failed'; reason: string }
  /** This registry has no scanner cvm can read. */
  | { status: 'unsupported' };

export type SignatureCheck = { verified: true } | { verified: false; reason: string };

export interface RegistryClient {
  /**
   * The digest a tag points to now (HEAD of the manifest with the full Accept list); `null` when
   * the tag does not exist. Costs one request (free of Docker Hub's pull limit).
   */
  resolveTag(repo: RepositoryRef, tag: string): Promise<ResolvedTag | null>;
  /** Manifest and config of a digest. @throws ImageNotFoundError */
  describe(repo: RepositoryRef, digest: string): Promise<ImageDetails>;
  /**
   * Starts reading what {@link describe} will be asked for `digest` soon, when the client keeps
   * descriptions (the OCI client does; ECR's answer carries tags, which move, so it does not).
   * Never throws; a failed read is not kept, and the later describe reads again.
   */
  warm?(repo: RepositoryRef, digest: string): void;
  /**
   * Tags of the repository that point at `digest`, among those `filter` accepts (tested before
   * any per-tag request). Bounded: at most `limit` candidate tags are resolved (default 50).
   */
  tagsOf(
    repo: RepositoryRef,
    digest: string,
    filter: (tag: string) => boolean,
    limit?: number,
  ): Promise<string[]>;
  /** Vulnerability scan of a digest. */
  scanFindings(repo: RepositoryRef, digest: string): Promise<ScanReport>;
  /** Cosign key-based signature (`sha256-<hex>.sig`) of `digest`, checked with an ECDSA/RSA PEM public key. */
  verifySignature(
    repo: RepositoryRef,
    digest: string,
    publicKeyPem: string,
  ): Promise<SignatureCheck>;
}

/** Credentials for one registry host, from a `kubernetes.io/dockerconfigjson` Secret. */
export interface RegistryCredentials {
  username: string;
  password: string;
}

/** The base of every registry failure; says whether retrying can help. */
export class RegistryError extends Error {
  constructor(
    message: string,
    /** Retrying later may succeed (network, 5xx, 429). */
    readonly transient: boolean,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'RegistryError';
  }
}

/** The registry asked us to slow down (429); retry after `retryAfterMs`. */
export class RateLimitedError extends RegistryError {
  constructor(
    message: string,
    readonly retryAfterMs: number,
  ) {
    super(message, true);
    this.name = 'RateLimitedError';
  }
}

/** The manifest or digest does not exist (404 on a digest). */
export class ImageNotFoundError extends RegistryError {
  constructor(message: string) {
    super(message, false);
    this.name = 'ImageNotFoundError';
  }
}

/** Credentials missing or refused (401/403). Permanent until someone fixes the Secret. */
export class RegistryAuthError extends RegistryError {
  constructor(message: string) {
    super(message, false);
    this.name = 'RegistryAuthError';
  }
}

/** A tag as the OCI Distribution spec allows it: `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`. */
export const OCI_TAG = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;

/** What moving a tag did: `moved` wrote it, `unchanged` found it there already, `would-move` is a dry run. */
export type TagMoveResult = 'moved' | 'unchanged' | 'would-move';

export interface TagMove {
  tag: string;
  /** The digest the tag points at now (or would, on a dry run): the source's, byte for byte. */
  digest: string;
  /** Where the tag pointed before; absent when it did not exist. */
  previousDigest?: string;
  result: TagMoveResult;
}

export interface MoveTagOptions {
  /** Read and compare only; write nothing. Default false. */
  dryRun?: boolean;
}

/**
 * Points tags at an existing manifest (or index) of the same repository, byte for byte, so the
 * digest stays the same: `cvm promote` and promotion between environments.
 */
export interface TagWriter {
  /**
   * Makes `tag` point at the manifest that `source` (a tag or a `sha256:` digest) names now. A tag
   * already at that digest is not written. @throws ImageNotFoundError when `source` does not
   * exist, InvalidTagError for a bad tag, RegistryAuthError without push rights.
   */
  moveTag(
    repo: RepositoryRef,
    source: string,
    tag: string,
    options?: MoveTagOptions,
  ): Promise<TagMove>;
}

/** A tag the OCI spec does not allow. Permanent. */
export class InvalidTagError extends RegistryError {
  constructor(readonly tag: string) {
    super(
      `tag ${JSON.stringify(tag)} is not a valid tag: [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`,
      false,
    );
    this.name = 'InvalidTagError';
  }
}

/** @throws InvalidTagError unless `tag` matches {@link OCI_TAG}. */
export function assertValidTag(tag: string): void {
  if (!OCI_TAG.test(tag)) throw new InvalidTagError(tag);
}
