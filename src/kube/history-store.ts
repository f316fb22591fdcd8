import {
  CoreV1Api,
  type KubeConfig,
  type V1ConfigMap,
  type V1OwnerReference,
} from '@kubernetes/client-node';
import type { Logger } from '../observability/logger.js';
import type {
  HistoryEntry,
  HistoryStore,
  ObjectKey,
  StoredContainerVersion,
} from '../workers/ports.js';
import { isConflict, isNotFound, KubeApiError, toKubeApiError } from './kube-errors.js';

export interface ConfigMapHistoryStoreOptions {
  kubeConfig: KubeConfig;
  logger: Logger;
  /** Read-modify-write attempts before a 409 is given up (as a transient error); default 5. */
  maxAttempts?: number;
}

/** Data key of the history ConfigMap: a JSON array of {@link HistoryEntry}, newest first. */
export const HISTORY_DATA_KEY = 'history.json';
/** Label on the history ConfigMap naming its ContainerVersion. */
export const HISTORY_LABEL = 'cvm.dev/history-of';

/** `<cv>-history`: the history ConfigMap of a ContainerVersion. */
export function historyConfigMapName(cvName: string): string {
  return `${cvName}-history`;
}

/**
 * {@link HistoryStore} in a ConfigMap `<cv>-history` in the CV's namespace, labelled
 * `cvm.dev/history-of: <cv>` and owned by the CV (ownerReference with `controller: false`,
 * `blockOwnerDeletion: true`), so the garbage collector deletes it with the CV.
 *
 * `add` is a read-modify-write with optimistic concurrency (create, or update with the read
 * `resourceVersion`), retried on 409 up to `maxAttempts` times; concurrent adds by several
 * workers all land. It is idempotent by `entry.id`: an id already present is left as it is.
 * Entries are kept newest first by `startedAt` and cut to `limit` (at least 1).
 *
 * A ConfigMap owned by another uid (an earlier CV of the same name, not yet collected) or with
 * unreadable data is started afresh, with a warning. `list` answers `[]` when there is none.
 * API failures throw `KubeApiError`.
 */
export class ConfigMapHistoryStore implements HistoryStore {
  private readonly core: CoreV1Api;
  private readonly log: Logger;
  private readonly maxAttempts: number;

  constructor(options: ConfigMapHistoryStoreOptions) {
    this.core = options.kubeConfig.makeApiClient(CoreV1Api);
    this.log = options.logger.child({ component: 'history-store' });
    this.maxAttempts = options.maxAttempts ?? 5;
  }

  async add(cv: StoredContainerVersion, entry: HistoryEntry, limit: number): Promise<void> {
    const { namespace, name: cvName } = cv.metadata;
    const name = historyConfigMapName(cvName);
    for (let attempt = 1; ; attempt++) {
      try {
        const current = await this.read(namespace, name);
        const sameOwner = current?.metadata?.ownerReferences?.some(
          (r) => r.uid === cv.metadata.uid,
        );
        if (current && !sameOwner) {
          this.log.warn(
            { cv: `${namespace}/${cvName}`, uid: cv.metadata.uid },
            'history ConfigMap owned by another object; starting afresh',
          );
        }
        const entries =
          current && sameOwner ? this.entriesOf(current, { namespace, name: cvName }) : [];
        if (entries.some((e) => e.id === entry.id)) return;
        const body = this.configMap(
          cv,
          newestFirst([entry, ...entries]).slice(0, Math.max(1, limit)),
        );
        if (current) {
          body.metadata = { ...body.metadata, resourceVersion: current.metadata?.resourceVersion };
          await this.core.replaceNamespacedConfigMap({ namespace, name, body });
        } else {
          await this.core.createNamespacedConfigMap({ namespace, body });
        }
        return;
      } catch (error) {
        if (isConflict(error) && attempt < this.maxAttempts) continue;
        if (isConflict(error)) {
          throw new KubeApiError(
            `add history entry to ${namespace}/${name}: still conflicting after ${attempt} attempts`,
            true,
            409,
            'Conflict',
            undefined,
          );
        }
        throw toKubeApiError(error, `add history entry to ${namespace}/${name}`);
      }
    }
  }

  async list(cv: ObjectKey): Promise<HistoryEntry[]> {
    try {
      const current = await this.read(cv.namespace, historyConfigMapName(cv.name));
      return current ? this.entriesOf(current, cv) : [];
    } catch (error) {
      throw toKubeApiError(error, `read history of ${cv.namespace}/${cv.name}`);
    }
  }

  private async read(namespace: string, name: string): Promise<V1ConfigMap | null> {
    try {
      return await this.core.readNamespacedConfigMap({ namespace, name });
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  private entriesOf(configMap: V1ConfigMap, cv: ObjectKey): HistoryEntry[] {
    const text = configMap.data?.[HISTORY_DATA_KEY];
    if (text === undefined) return [];
    try {
      const parsed: unknown = JSON.parse(text);
      if (Array.isArray(parsed)) return parsed as HistoryEntry[];
    } catch {
      // reported below
    }
    this.log.warn({ cv: `${cv.namespace}/${cv.name}` }, 'history data unreadable; starting afresh');
    return [];
  }

  private configMap(cv: StoredContainerVersion, entries: HistoryEntry[]): V1ConfigMap {
    const owner: V1OwnerReference = {
      apiVersion: cv.apiVersion,
      kind: cv.kind,
      name: cv.metadata.name,
      uid: cv.metadata.uid,
      controller: false,
      blockOwnerDeletion: true,
    };
    return {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: historyConfigMapName(cv.metadata.name),
        namespace: cv.metadata.namespace,
        labels: { [HISTORY_LABEL]: cv.metadata.name },
        ownerReferences: [owner],
      },
      data: { [HISTORY_DATA_KEY]: JSON.stringify(entries) },
    };
  }
}

/** Sorted by `startedAt`, newest first; stable, so equal times keep their order. */
function newestFirst(entries: HistoryEntry[]): HistoryEntry[] {
  const time = (e: HistoryEntry) => {
    const ms = Date.parse(e.startedAt);
    return Number.isNaN(ms) ? 0 : ms;
  };
  return entries
    .map((e, i) => ({ e, i }))
    .sort((a, b) => time(b.e) - time(a.e) || a.i - b.i)
    .map(({ e }) => e);
}
