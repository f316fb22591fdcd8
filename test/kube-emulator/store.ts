import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { formatKubeTime } from './clock.js';
import type {
  KubeObject,
  ListOptions,
  ObjectStore,
  PageOptions,
  ResourceName,
  StoreEvent,
} from './contract.js';
import { StatusError } from './contract.js';
import { matchesRequirements, parseLabelSelector, type Requirement } from './label-selector.js';
import { ResourceRegistry } from './resources/registry.js';
import type { ResourceType } from './resources/resource-type.js';
import { alreadyExists, badRequest, conflict, invalid, notFound } from './status-errors.js';

export interface MemoryStoreOptions {
  /** Served resource types; default: the built-ins. */
  registry?: ResourceRegistry;
  /** Emulated wall-clock milliseconds for creationTimestamp; default `Date.now`. */
  now?: () => number;
  /** Watch events kept for resuming watches from a resourceVersion; default 10 000. */
  historyLimit?: number;
}

export type DeletePropagation = 'Background' | 'Foreground' | 'Orphan';

export interface DeleteOptions {
  propagationPolicy?: DeletePropagation;
  /** Fails with 409 Conflict unless the stored object has this uid / resourceVersion. */
  preconditions?: { uid?: string; resourceVersion?: string };
}

interface HistoryEntry {
  resourceVersion: number;
  event: StoreEvent;
}

/** How a listener receives events: its own deep copy (default) or the stored, shared one. */
export interface SubscribeOptions {
  /**
   * The listener gets the event object the store keeps (also in the watch history) instead of a
   * deep copy of it: for listeners that only read it, such as watches and the controllers. It must
   * not be mutated.
   */
  shared?: boolean;
}

/**
 * Work the store has done since it was made, for tests that judge its cost per write without
 * timing it: objects looked at by lists, cascades and history replays, and deep copies made.
 */
export interface StoreWork {
  /** Stored objects (or history entries) a read or a cascade looked at. */
  visited: number;
  /** Deep copies made (in and out, per listener). */
  cloned: number;
}

/** One resource's objects: by key (in creation order), by namespace and by label, with indexes. */
interface Bucket {
  all: Map<string, KubeObject>;
  /** Creation sequence of each key, to put index hits in creation order. */
  seq: Map<string, number>;
  byNamespace: Map<string, Map<string, KubeObject>>;
  /** label key → value → keys. */
  byLabel: Map<string, Map<string, Set<string>>>;
}

const generateNameAlphabet = 'bcdfghjklmnpqrstvwxz2456789';

function suffix(): string {
  let out = '';
  for (let i = 0; i < 5; i++) {
    out += generateNameAlphabet[Math.floor(Math.random() * generateNameAlphabet.length)];
  }
  return out;
}

/** The index of the first entry whose key sorts after `after` (binary search over sorted keys). */
function firstAfter(sorted: [string, KubeObject][], after: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]![0] <= after) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function keyOf(namespace: string | undefined, name: string): string {
  return `${namespace ?? ''}/${name}`;
}

/** What `generation` follows: `spec` for built-ins, everything but metadata and status for CRs. */
function generationSubject(type: ResourceType, object: KubeObject): unknown {
  if (!type.custom) return object.spec;
  const { metadata: _m, status: _s, ...rest } = object as Record<string, unknown>;
  return rest;
}

/**
 * The in-memory {@link ObjectStore}: one global, monotonic resourceVersion, deep copies in and out,
 * synchronous notification in commit order (re-entrant writes from a listener are queued), and a
 * bounded history of events for watches that resume from a resourceVersion.
 */
export class MemoryStore implements ObjectStore {
  readonly registry: ResourceRegistry;
  private readonly now: () => number;
  private readonly historyLimit: number;
  private readonly objects = new Map<ResourceName, Bucket>();
  /** owner uid → resource → keys of the objects with an ownerReference to it. */
  private readonly byOwner = new Map<string, Map<ResourceName, Set<string>>>();
  private readonly listeners = new Map<(event: StoreEvent) => void, boolean>();
  private readonly pending: StoreEvent[] = [];
  private notifying = false;
  /** The watch history, oldest first, from `historyStart` on (a queue without O(n) shifts). */
  private history: HistoryEntry[] = [];
  private historyStart = 0;
  private sequence = 0;
  private revision = 0;
  /** Work done so far (see {@link StoreWork}). */
  readonly work: StoreWork = { visited: 0, cloned: 0 };
  /** Watches may resume from any resourceVersion >= horizon. */
  private horizon = 0;

  constructor(options: MemoryStoreOptions = {}) {
    this.registry = options.registry ?? new ResourceRegistry();
    this.now = options.now ?? Date.now;
    this.historyLimit = options.historyLimit ?? 10_000;
  }

  /** The latest resourceVersion (what a list returns in `metadata.resourceVersion`). */
  resourceVersion(): string {
    return String(this.revision);
  }

  get(resource: ResourceName, namespace: string | undefined, name: string): KubeObject | undefined {
    const type = this.type(resource);
    const found = this.bucket(resource).all.get(
      keyOf(type.namespaced ? namespace : undefined, name),
    );
    return found ? this.clone(found) : undefined;
  }

  /**
   * Objects sorted by namespace/name. Looks only at the smallest index that holds the answer: the
   * owner's objects (`ownerUid`), the namespace's, or those with a label value an equality or
   * `in` requirement names; the whole resource only when nothing narrows it.
   */
  list(resource: ResourceName, options: ListOptions = {}): KubeObject[] {
    // Sort and copy only what is returned: lists stay cheap with many objects.
    return this.select(resource, options).map(([, o]) => this.clone(o));
  }

  listPage(
    resource: ResourceName,
    options: PageOptions,
  ): { items: KubeObject[]; remaining: number } {
    const found = this.select(resource, options);
    const { after, limit } = options;
    const from = after === undefined ? 0 : firstAfter(found, after);
    const to = limit ? Math.min(found.length, from + limit) : found.length;
    return {
      items: found.slice(from, to).map(([, o]) => this.clone(o)),
      remaining: found.length - to,
    };
  }

  /** The matching stored objects (not copies) with their keys, sorted by key. */
  private select(resource: ResourceName, options: ListOptions): [string, KubeObject][] {
    const type = this.type(resource);
    const requirements = parseLabelSelector(options.labelSelector ?? '');
    const namespace = type.namespaced ? options.namespace : undefined;
    const bucket = this.bucket(resource);
    const found: [string, KubeObject][] = [];
    const consider = (key: string, o: KubeObject | undefined): void => {
      this.work.visited++;
      if (!o) return;
      if (namespace !== undefined && o.metadata.namespace !== namespace) return;
      if (options.ownerUid !== undefined && !ownedBy(o, options.ownerUid)) return;
      if (!matchesRequirements(requirements, o.metadata.labels)) return;
      if (options.filter && !options.filter(o)) return;
      found.push([key, o]);
    };
    const candidates = this.candidates(bucket, resource, namespace, requirements, options.ownerUid);
    if (candidates instanceof Map) for (const [key, o] of candidates) consider(key, o);
    else for (const key of candidates) consider(key, bucket.all.get(key));
    return found.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  create(resource: ResourceName, input: KubeObject): KubeObject {
    const type = this.type(resource);
    const object = this.clone(input);
    const meta = object.metadata ?? {};
    object.metadata = meta;
    if (type.namespaced && !meta.namespace)
      throw badRequest('the namespace of the object is required');
    if (!type.namespaced) delete meta.namespace;
    if (!meta.name) {
      if (!meta.generateName) {
        throw invalid(type, '', [
          {
            reason: 'FieldValueRequired',
            field: 'metadata.name',
            message: 'Required value: name or generateName is required',
          },
        ]);
      }
      meta.name = `${meta.generateName}${suffix()}`;
    }
    const bucket = this.bucket(resource);
    const key = keyOf(meta.namespace, meta.name);
    if (bucket.all.has(key)) throw alreadyExists(type, meta.name);
    meta.uid = randomUUID();
    meta.creationTimestamp = formatKubeTime(this.now());
    meta.resourceVersion = String(++this.revision);
    if (type.generation) meta.generation = 1;
    else delete meta.generation;
    delete meta.deletionTimestamp;
    this.put(resource, bucket, key, object);
    this.commit({ type: 'ADDED', resource, object });
    return this.clone(object);
  }

  update(resource: ResourceName, input: KubeObject): KubeObject {
    const type = this.type(resource);
    return this.replace(resource, input, (current, next) => {
      if (type.status) {
        if (current.status === undefined) delete next.status;
        else next.status = this.clone(current.status as unknown);
      }
      return next;
    });
  }

  updateStatus(resource: ResourceName, input: KubeObject): KubeObject {
    return this.replace(resource, input, (current, next) => {
      const merged = this.clone(current);
      if (next.status === undefined) delete merged.status;
      else merged.status = next.status as unknown;
      return merged;
    });
  }

  delete(
    resource: ResourceName,
    namespace: string | undefined,
    name: string,
    options: DeleteOptions = {},
  ): KubeObject {
    const type = this.type(resource);
    const bucket = this.bucket(resource);
    const key = keyOf(type.namespaced ? namespace : undefined, name);
    const current = bucket.all.get(key);
    if (!current) throw notFound(type, name);
    const pre = options.preconditions;
    if (pre?.uid !== undefined && pre.uid !== current.metadata.uid) {
      throw conflict(
        type,
        name,
        `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${current.metadata.uid ?? ''}`,
      );
    }
    if (
      pre?.resourceVersion !== undefined &&
      pre.resourceVersion !== current.metadata.resourceVersion
    ) {
      throw conflict(type, name);
    }
    this.remove(resource, bucket, key, current);
    const object = this.clone(current);
    object.metadata.resourceVersion = String(++this.revision);
    this.commit({ type: 'DELETED', resource, object });
    const uid = current.metadata.uid ?? '';
    if (resource === 'namespaces') this.deleteNamespaceContents(name);
    this.cascade(uid, options.propagationPolicy ?? 'Background');
    return this.clone(object);
  }

  subscribe(listener: (event: StoreEvent) => void, options: SubscribeOptions = {}): () => void {
    this.listeners.set(listener, options.shared === true);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /**
   * Events after `resourceVersion`, oldest first, or `undefined` when that resourceVersion is
   * older than the retained history (a watch from it must fail with 410 Gone).
   */
  eventsSince(resourceVersion: number): StoreEvent[] | undefined {
    if (resourceVersion < this.horizon) return undefined;
    // resourceVersions rise along the history: find the first newer one by bisection.
    let low = this.historyStart;
    let high = this.history.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      this.work.visited++;
      if ((this.history[mid]?.resourceVersion ?? 0) > resourceVersion) high = mid;
      else low = mid + 1;
    }
    const out: StoreEvent[] = [];
    for (let i = low; i < this.history.length; i++) {
      this.work.visited++;
      const entry = this.history[i];
      if (entry) out.push(this.clone(entry.event));
    }
    return out;
  }

  /** Forgets the event history, as etcd compaction does: older resourceVersions answer 410. */
  compact(): void {
    this.history = [];
    this.historyStart = 0;
    this.horizon = this.revision;
  }

  /** The type of a served resource, or 404 NotFound. */
  type(resource: ResourceName): ResourceType {
    const type = this.registry.get(resource);
    if (!type) {
      const [plural = resource, ...group] = resource.split('.');
      throw notFound({ plural, group: group.join('.'), kind: plural }, '');
    }
    return type;
  }

  private replace(
    resource: ResourceName,
    input: KubeObject,
    merge: (current: KubeObject, next: KubeObject) => KubeObject,
  ): KubeObject {
    const type = this.type(resource);
    const next = this.clone(input);
    const name = next.metadata?.name;
    if (!name) throw badRequest('name is required for an update');
    const bucket = this.bucket(resource);
    const key = keyOf(type.namespaced ? next.metadata.namespace : undefined, name);
    const current = bucket.all.get(key);
    if (!current) throw notFound(type, name);
    const wanted = next.metadata.resourceVersion;
    if (wanted !== undefined && wanted !== '' && wanted !== current.metadata.resourceVersion) {
      throw conflict(type, name);
    }
    const merged = merge(current, next);
    const meta = merged.metadata;
    meta.uid = current.metadata.uid;
    meta.creationTimestamp = current.metadata.creationTimestamp;
    meta.resourceVersion = current.metadata.resourceVersion;
    if (type.namespaced) meta.namespace = current.metadata.namespace;
    else delete meta.namespace;
    if (current.metadata.deletionTimestamp)
      meta.deletionTimestamp = current.metadata.deletionTimestamp;
    if (type.generation) {
      const changed = !isDeepStrictEqual(
        generationSubject(type, current),
        generationSubject(type, merged),
      );
      meta.generation = (current.metadata.generation ?? 1) + (changed ? 1 : 0);
    } else {
      delete meta.generation;
    }
    if (isDeepStrictEqual(current, merged)) return this.clone(current);
    meta.resourceVersion = String(++this.revision);
    this.put(resource, bucket, key, merged, current);
    this.commit({ type: 'MODIFIED', resource, object: merged });
    return this.clone(merged);
  }

  /**
   * Orphans or deletes (per `policy`) the objects with an ownerReference to `ownerUid`, resource
   * by resource in the order resources were first stored, objects in creation order, from the
   * owner index (no scan of every bucket).
   */
  private cascade(ownerUid: string, policy: DeletePropagation): void {
    for (const [resource, bucket] of this.objects) {
      const keys = this.byOwner.get(ownerUid)?.get(resource);
      if (!keys || keys.size === 0) continue;
      const owned = [...keys]
        .map((key) => ({ key, seq: bucket.seq.get(key) ?? 0, object: bucket.all.get(key) }))
        .sort((a, b) => a.seq - b.seq);
      for (const { key, object } of owned) {
        this.work.visited++;
        if (!object) continue;
        const refs = object.metadata.ownerReferences ?? [];
        if (!refs.some((r) => r.uid === ownerUid)) continue;
        const remaining = refs.filter((r) => r.uid !== ownerUid);
        const { namespace, name = '' } = object.metadata;
        if (policy === 'Orphan' || remaining.length > 0) {
          const copy = this.clone(object);
          if (remaining.length > 0) copy.metadata.ownerReferences = remaining;
          else delete copy.metadata.ownerReferences;
          this.replace(resource, copy, (_current, next) => next);
        } else if (bucket.all.has(key)) {
          this.delete(resource, namespace, name, { propagationPolicy: policy });
        }
      }
    }
  }

  private deleteNamespaceContents(namespace: string): void {
    for (const [resource, bucket] of this.objects) {
      const inNamespace = bucket.byNamespace.get(namespace);
      if (!inNamespace) continue;
      for (const [key, object] of [...inNamespace]) {
        this.work.visited++;
        const { name = '' } = object.metadata;
        if (bucket.all.has(key)) this.delete(resource, namespace, name);
      }
    }
  }

  private bucket(resource: ResourceName): Bucket {
    let bucket = this.objects.get(resource);
    if (!bucket) {
      bucket = { all: new Map(), seq: new Map(), byNamespace: new Map(), byLabel: new Map() };
      this.objects.set(resource, bucket);
    }
    return bucket;
  }

  /**
   * The keys (or key → object map) a list must look at: the smallest of the owner's objects, the
   * namespace's and those of each equality/`in` label requirement; every object otherwise.
   */
  private candidates(
    bucket: Bucket,
    resource: ResourceName,
    namespace: string | undefined,
    requirements: Requirement[],
    ownerUid: string | undefined,
  ): Map<string, KubeObject> | Iterable<string> {
    let best: Map<string, KubeObject> | Iterable<string> = bucket.all;
    let size = bucket.all.size;
    if (ownerUid !== undefined) {
      const owned = this.byOwner.get(ownerUid)?.get(resource);
      if (!owned) return [];
      if (owned.size < size) [best, size] = [owned, owned.size];
    }
    if (namespace !== undefined) {
      const inNamespace = bucket.byNamespace.get(namespace);
      if (!inNamespace) return [];
      if (inNamespace.size < size) [best, size] = [inNamespace, inNamespace.size];
    }
    for (const r of requirements) {
      if (r.operator !== 'In') continue;
      const byValue = bucket.byLabel.get(r.key);
      const sets = r.values.map((v) => byValue?.get(v)).filter((k) => k !== undefined);
      const total = sets.reduce((n, k) => n + k.size, 0);
      if (total >= size) continue;
      size = total;
      best = sets.length === 1 ? (sets[0] ?? []) : new Set(sets.flatMap((k) => [...k]));
    }
    return best;
  }

  /** Stores `object` under `key` and updates the indexes (`previous`: the object it replaces). */
  private put(
    resource: ResourceName,
    bucket: Bucket,
    key: string,
    object: KubeObject,
    previous?: KubeObject,
  ): void {
    if (!bucket.seq.has(key)) bucket.seq.set(key, this.sequence++);
    bucket.all.set(key, object);
    const namespace = object.metadata.namespace ?? '';
    let inNamespace = bucket.byNamespace.get(namespace);
    if (!inNamespace) {
      inNamespace = new Map();
      bucket.byNamespace.set(namespace, inNamespace);
    }
    inNamespace.set(key, object);
    const labels = object.metadata.labels ?? {};
    const before = previous?.metadata.labels ?? {};
    for (const [k, v] of Object.entries(before)) {
      if (labels[k] !== v) this.unindexLabel(bucket, key, k, v);
    }
    for (const [k, v] of Object.entries(labels)) {
      if (before[k] === v) continue;
      let byValue = bucket.byLabel.get(k);
      if (!byValue) {
        byValue = new Map();
        bucket.byLabel.set(k, byValue);
      }
      let keys = byValue.get(v);
      if (!keys) {
        keys = new Set();
        byValue.set(v, keys);
      }
      keys.add(key);
    }
    const owners = new Set((object.metadata.ownerReferences ?? []).map((r) => r.uid));
    for (const r of previous?.metadata.ownerReferences ?? []) {
      if (!owners.has(r.uid)) this.unindexOwner(resource, key, r.uid);
    }
    for (const uid of owners) {
      let byResource = this.byOwner.get(uid);
      if (!byResource) {
        byResource = new Map();
        this.byOwner.set(uid, byResource);
      }
      let keys = byResource.get(resource);
      if (!keys) {
        keys = new Set();
        byResource.set(resource, keys);
      }
      keys.add(key);
    }
  }

  /** Removes `key` (holding `object`) and its index entries. */
  private remove(resource: ResourceName, bucket: Bucket, key: string, object: KubeObject): void {
    bucket.all.delete(key);
    bucket.seq.delete(key);
    const namespace = object.metadata.namespace ?? '';
    const inNamespace = bucket.byNamespace.get(namespace);
    inNamespace?.delete(key);
    if (inNamespace?.size === 0) bucket.byNamespace.delete(namespace);
    for (const [k, v] of Object.entries(object.metadata.labels ?? {})) {
      this.unindexLabel(bucket, key, k, v);
    }
    for (const r of object.metadata.ownerReferences ?? []) this.unindexOwner(resource, key, r.uid);
  }

  private unindexLabel(bucket: Bucket, key: string, label: string, value: string): void {
    const byValue = bucket.byLabel.get(label);
    const keys = byValue?.get(value);
    keys?.delete(key);
    if (keys?.size === 0) byValue?.delete(value);
    if (byValue?.size === 0) bucket.byLabel.delete(label);
  }

  private unindexOwner(resource: ResourceName, key: string, uid: string): void {
    const byResource = this.byOwner.get(uid);
    const keys = byResource?.get(resource);
    keys?.delete(key);
    if (keys?.size === 0) byResource?.delete(resource);
    if (byResource?.size === 0) this.byOwner.delete(uid);
  }

  private clone<T>(value: T): T {
    this.work.cloned++;
    return structuredClone(value);
  }

  /**
   * Records `event` in the history and notifies the listeners. The event keeps the stored object
   * itself: stored objects are never changed in place (every write stores a new one), so the
   * history and the shared listeners read it as is, and the others get a copy each.
   */
  private commit(event: StoreEvent): void {
    const stored: StoreEvent = { ...event };
    this.history.push({ resourceVersion: this.revision, event: stored });
    if (this.history.length - this.historyStart > this.historyLimit) {
      const dropped = this.history[this.historyStart];
      this.history[this.historyStart] = undefined as unknown as HistoryEntry;
      this.historyStart++;
      if (dropped) this.horizon = dropped.resourceVersion;
      if (this.historyStart >= 1024 && this.historyStart * 2 >= this.history.length) {
        this.history = this.history.slice(this.historyStart);
        this.historyStart = 0;
      }
    }
    this.pending.push(stored);
    if (this.notifying) return;
    this.notifying = true;
    try {
      for (let next = this.pending.shift(); next; next = this.pending.shift()) {
        for (const [listener, shared] of [...this.listeners]) {
          try {
            listener(shared ? next : { ...next, object: this.clone(next.object) });
          } catch (error) {
            if (error instanceof StatusError) continue;
            console.error('kube-emulator: store listener failed', error);
          }
        }
      }
    } finally {
      this.notifying = false;
    }
  }
}

/** Whether `object` has an ownerReference to `uid`. */
function ownedBy(object: KubeObject, uid: string): boolean {
  return (object.metadata.ownerReferences ?? []).some((r) => r.uid === uid);
}
