import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { formatKubeTime } from './clock.js';
import type { KubeObject, ListOptions, ObjectStore, ResourceName, StoreEvent } from './contract.js';
import { StatusError } from './contract.js';
import { matchesRequirements, parseLabelSelector } from './label-selector.js';
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

const generateNameAlphabet = 'bcdfghjklmnpqrstvwxz2456789';

function suffix(): string {
  let out = '';
  for (let i = 0; i < 5; i++) {
    out += generateNameAlphabet[Math.floor(Math.random() * generateNameAlphabet.length)];
  }
  return out;
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
  private readonly objects = new Map<ResourceName, Map<string, KubeObject>>();
  private readonly listeners = new Set<(event: StoreEvent) => void>();
  private readonly pending: StoreEvent[] = [];
  private notifying = false;
  private history: HistoryEntry[] = [];
  private revision = 0;
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
    const found = this.bucket(resource).get(keyOf(type.namespaced ? namespace : undefined, name));
    return found ? structuredClone(found) : undefined;
  }

  list(resource: ResourceName, options: ListOptions = {}): KubeObject[] {
    const type = this.type(resource);
    const requirements = parseLabelSelector(options.labelSelector ?? '');
    const namespace = type.namespaced ? options.namespace : undefined;
    // Filter first, then sort and copy only what is returned: lists stay cheap with many objects.
    return [...this.bucket(resource).entries()]
      .filter(([, o]) => namespace === undefined || o.metadata.namespace === namespace)
      .filter(([, o]) => matchesRequirements(requirements, o.metadata.labels))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, o]) => structuredClone(o));
  }

  create(resource: ResourceName, input: KubeObject): KubeObject {
    const type = this.type(resource);
    const object = structuredClone(input);
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
    if (bucket.has(key)) throw alreadyExists(type, meta.name);
    meta.uid = randomUUID();
    meta.creationTimestamp = formatKubeTime(this.now());
    meta.resourceVersion = String(++this.revision);
    if (type.generation) meta.generation = 1;
    else delete meta.generation;
    delete meta.deletionTimestamp;
    bucket.set(key, object);
    this.commit({ type: 'ADDED', resource, object });
    return structuredClone(object);
  }

  update(resource: ResourceName, input: KubeObject): KubeObject {
    const type = this.type(resource);
    return this.replace(resource, input, (current, next) => {
      if (type.status) {
        if (current.status === undefined) delete next.status;
        else next.status = structuredClone(current.status as unknown);
      }
      return next;
    });
  }

  updateStatus(resource: ResourceName, input: KubeObject): KubeObject {
    return this.replace(resource, input, (current, next) => {
      const merged = structuredClone(current);
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
    const current = bucket.get(key);
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
    bucket.delete(key);
    const object = structuredClone(current);
    object.metadata.resourceVersion = String(++this.revision);
    this.commit({ type: 'DELETED', resource, object });
    const uid = current.metadata.uid ?? '';
    if (resource === 'namespaces') this.deleteNamespaceContents(name);
    this.cascade(uid, options.propagationPolicy ?? 'Background');
    return structuredClone(object);
  }

  subscribe(listener: (event: StoreEvent) => void): () => void {
    this.listeners.add(listener);
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
    return this.history
      .filter((h) => h.resourceVersion > resourceVersion)
      .map((h) => structuredClone(h.event));
  }

  /** Forgets the event history, as etcd compaction does: older resourceVersions answer 410. */
  compact(): void {
    this.history = [];
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
    const next = structuredClone(input);
    const name = next.metadata?.name;
    if (!name) throw badRequest('name is required for an update');
    const bucket = this.bucket(resource);
    const key = keyOf(type.namespaced ? next.metadata.namespace : undefined, name);
    const current = bucket.get(key);
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
    if (isDeepStrictEqual(current, merged)) return structuredClone(current);
    meta.resourceVersion = String(++this.revision);
    bucket.set(key, merged);
    this.commit({ type: 'MODIFIED', resource, object: merged });
    return structuredClone(merged);
  }

  private cascade(ownerUid: string, policy: DeletePropagation): void {
    for (const [resource, bucket] of this.objects) {
      for (const object of [...bucket.values()]) {
        const refs = object.metadata.ownerReferences ?? [];
        if (!refs.some((r) => r.uid === ownerUid)) continue;
        const remaining = refs.filter((r) => r.uid !== ownerUid);
        const { namespace, name = '' } = object.metadata;
        if (policy === 'Orphan' || remaining.length > 0) {
          const copy = structuredClone(object);
          if (remaining.length > 0) copy.metadata.ownerReferences = remaining;
          else delete copy.metadata.ownerReferences;
          this.replace(resource, copy, (_current, next) => next);
        } else if (bucket.has(keyOf(namespace, name))) {
          this.delete(resource, namespace, name, { propagationPolicy: policy });
        }
      }
    }
  }

  private deleteNamespaceContents(namespace: string): void {
    for (const [resource, bucket] of this.objects) {
      for (const object of [...bucket.values()]) {
        const { name = '' } = object.metadata;
        if (object.metadata.namespace === namespace && bucket.has(keyOf(namespace, name))) {
          this.delete(resource, namespace, name);
        }
      }
    }
  }

  private bucket(resource: ResourceName): Map<string, KubeObject> {
    let bucket = this.objects.get(resource);
    if (!bucket) {
      bucket = new Map();
      this.objects.set(resource, bucket);
    }
    return bucket;
  }

  private commit(event: StoreEvent): void {
    const stored: StoreEvent = { ...event, object: structuredClone(event.object) };
    this.history.push({ resourceVersion: this.revision, event: stored });
    if (this.history.length > this.historyLimit) {
      const dropped = this.history.shift();
      if (dropped) this.horizon = dropped.resourceVersion;
    }
    this.pending.push(stored);
    if (this.notifying) return;
    this.notifying = true;
    try {
      for (let next = this.pending.shift(); next; next = this.pending.shift()) {
        for (const listener of [...this.listeners]) {
          try {
            listener(structuredClone(next));
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
