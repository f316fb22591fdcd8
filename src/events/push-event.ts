/**
 * The one shape every registry event becomes (DESIGN §1, §3). A PushEvent carries identity only:
 * workers re-read the ContainerVersion and re-resolve the tag in the registry before acting, so a
 * duplicated, late or forged event cannot deploy the wrong image (STYLE.md, "events are hints").
 */

/** Every event source, one normalizer each (`src/events/sources/<source>.ts`). */
export const PUSH_SOURCES = [
  'ecr',
  'dockerhub',
  'quay',
  'ghcr',
  'harbor',
  'acr',
  'gar',
  'distribution',
  'generic',
] as const;
export type PushSource = (typeof PUSH_SOURCES)[number];

export interface PushEvent {
  /**
   * `push`: a tag now points at an image. `scan`: a vulnerability scan of a tagged image finished
   * (ECR); it lets a rollout that waits for a scan go on.
   */
  kind: 'push' | 'scan';
  /** Registry host, lower-case, `docker.io` for Docker Hub (`123456789012.dkr.ecr.us-east-1.amazonaws.com`). */
  registry: string;
  /** Repository inside the registry, normalized like Docker does (`library/nginx`, `team/api`). */
  repository: string;
  /** The tag that was pushed or moved. Digest-only pushes are not PushEvents. */
  tag: string;
  /** `sha256:…` of the manifest when the source says it (not Docker Hub, not Quay). */
  digest?: string;
  source: PushSource;
  /**
   * The source's own id of this delivery, for deduplication: ECR/EventBridge `id`, `X-GitHub-Delivery`,
   * CloudEvents `id`, Pub/Sub `messageId`, ACR/Distribution event `id`. For sources without ids
   * (Docker Hub, Quay) a stable id derived from the payload (repository, tag, push time).
   */
  sourceEventId?: string;
  /** When the source says the push happened (RFC 3339), if it says. */
  occurredAt?: string;
  /** When cvm received the delivery (RFC 3339, milliseconds). */
  receivedAt: string;
}

/** One HTTP delivery or SQS message, as a normalizer sees it. */
export interface RawDelivery {
  /** The body parsed as JSON (or as the source's documented form encoding). */
  body: unknown;
  /** Request headers (HTTP) or message attributes (SQS), names in lower case. */
  headers: Readonly<Record<string, string | undefined>>;
  receivedAt: Date;
}

/**
 * What a normalizer made of a delivery: the deployable events, and why the rest was ignored
 * (a delete, a pull, a blob, an untagged manifest, a ping). Both may be non-empty: one
 * Distribution envelope can hold a manifest push and ten blob pushes.
 */
export interface Normalized {
  events: PushEvent[];
  ignored: string[];
  /**
   * The events of a multi-event delivery (a Distribution envelope, Harbor `resources`, Quay
   * `updated_tags`, ECR scan `image-tags`) that do not have the documented shape, one message each
   * naming the field (`events[2].target.digest: …`). The others are judged on their own: one bad
   * event does not sink its neighbours. Absent when there are none.
   */
  invalid?: string[];
}

/**
 * Pure and synchronous: `(delivery) => Normalized`, or throws {@link MalformedEventError} and
 * nothing else, whatever the input. It throws only when the delivery as a whole is unreadable (no
 * envelope, no repository for all its tags); one bad event among several goes to `invalid`.
 */
export type Normalizer = (delivery: RawDelivery) => Normalized;

/** The delivery does not have the documented shape; the receiver answers 400 with this message. */
export class MalformedEventError extends Error {
  constructor(
    /** Path of the offending field in the payload (`detail.repository-name`, `events[2].target`). */
    readonly field: string,
    reason: string,
  ) {
    super(`${field}: ${reason}`);
    this.name = 'MalformedEventError';
  }
}
