import { parseRepository, repositoryKey } from '../events/image-ref.js';
import type {
  ContainerVersionChange,
  FollowingContainerVersion,
  StoredContainerVersion,
} from '../workers/ports.js';

/** A change the cache applied: what an informer's listeners see. */
export type { ContainerVersionChange };

/**
 * The in-memory ContainerVersions of an informer, indexed by the normalized image they follow
 * (`registry/repository:tag`, registry lower-cased, `nginx` → `docker.io/library/nginx`).
 * Synchronous and without I/O.
 *
 * A CV whose `spec.imageRepo` or `spec.tag` is missing or invalid is kept (it is listed and its
 * changes are reported) but follows nothing: validating it and saying why is the worker's job.
 */
export class ContainerVersionCache {
  private readonly objects = new Map<string, StoredContainerVersion>();
  private readonly imageOf = new Map<string, string>();
  private readonly byImage = new Map<string, Map<string, FollowingContainerVersion>>();

  /**
   * Adds or replaces `object`. Returns the change, or `undefined` when the cache already had this
   * resourceVersion (re-lists repeat every object; they must not look like changes).
   */
  upsert(object: StoredContainerVersion): ContainerVersionChange | undefined {
    const key = keyOf(object);
    const previous = this.objects.get(key);
    if (previous?.metadata.resourceVersion === object.metadata.resourceVersion) return undefined;
    this.objects.set(key, object);
    this.unindex(key);
    const image = followedImage(object.spec);
    if (image !== undefined) {
      this.imageOf.set(key, image);
      let followers = this.byImage.get(image);
      if (!followers) {
        followers = new Map();
        this.byImage.set(image, followers);
      }
      const { namespace, name, uid } = object.metadata;
      followers.set(key, { namespace, name, uid });
    }
    return { type: previous ? 'update' : 'add', object };
  }

  /** Removes the object with the namespace and name of `object`; `undefined` when it was not there. */
  remove(object: {
    metadata: { namespace?: string; name?: string };
  }): ContainerVersionChange | undefined {
    const key = keyOf(object);
    const previous = this.objects.get(key);
    if (!previous) return undefined;
    this.objects.delete(key);
    this.unindex(key);
    return { type: 'delete', object: previous };
  }

  /** Removes every object whose `namespace/name` is not in `keep`; returns the changes. */
  retainOnly(keep: ReadonlySet<string>): ContainerVersionChange[] {
    const changes: ContainerVersionChange[] = [];
    for (const [key, object] of [...this.objects]) {
      if (keep.has(key)) continue;
      const change = this.remove(object);
      if (change) changes.push(change);
    }
    return changes;
  }

  following(registry: string, repository: string, tag: string): FollowingContainerVersion[] {
    const image = `${repositoryKey({ registry, repository })}:${tag}`;
    return [...(this.byImage.get(image)?.values() ?? [])].map((f) => ({ ...f }));
  }

  list(): StoredContainerVersion[] {
    return [...this.objects.values()];
  }

  get(namespace: string, name: string): StoredContainerVersion | undefined {
    return this.objects.get(`${namespace}/${name}`);
  }

  private unindex(key: string): void {
    const image = this.imageOf.get(key);
    if (image === undefined) return;
    this.imageOf.delete(key);
    const followers = this.byImage.get(image);
    followers?.delete(key);
    if (followers?.size === 0) this.byImage.delete(image);
  }
}

/** `namespace/name` of an object. */
export function keyOf(object: { metadata: { namespace?: string; name?: string } }): string {
  return `${object.metadata.namespace ?? ''}/${object.metadata.name ?? ''}`;
}

/** The index key of the image a spec follows, or `undefined` when the spec names none validly. */
function followedImage(spec: unknown): string | undefined {
  if (typeof spec !== 'object' || spec === null) return undefined;
  const { imageRepo, tag } = spec as { imageRepo?: unknown; tag?: unknown };
  if (typeof imageRepo !== 'string' || typeof tag !== 'string' || tag === '') return undefined;
  try {
    return `${repositoryKey(parseRepository(imageRepo))}:${tag}`;
  } catch {
    return undefined;
  }
}
