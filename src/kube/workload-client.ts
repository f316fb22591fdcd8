import {
  AppsV1Api,
  BatchV1Api,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
} from '@kubernetes/client-node';
import type {
  Container,
  ObjectKey,
  Workload,
  WorkloadClient,
  WorkloadKind,
} from '../workers/ports.js';
import { WORKLOAD_KINDS } from '../workers/ports.js';
import { selectsWorkload } from '../workers/rollout-facts.js';
import { isNotFound, toKubeApiError } from './kube-errors.js';
import { formatLabelSelector } from './label-selector.js';

export interface KubeWorkloadClientDeps {
  kubeConfig: KubeConfig;
}

interface Apis {
  apps: AppsV1Api;
  batch: BatchV1Api;
}

type Call<A> = (apis: Apis, args: A) => Promise<unknown>;
const smp = () => setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);

/** How each kind is listed, read and patched, and where its pod template lives. */
const KINDS: Record<
  WorkloadKind,
  {
    list: Call<{ namespace: string; labelSelector: string }>;
    read: Call<ObjectKey>;
    patch: Call<ObjectKey & { body: object }>;
    /** Path from the object to its pod template's spec. */
    podSpecPath: readonly string[];
  }
> = {
  Deployment: {
    list: (a, args) => a.apps.listNamespacedDeployment(args),
    read: (a, args) => a.apps.readNamespacedDeployment(args),
    patch: (a, args) => a.apps.patchNamespacedDeployment(args, smp()),
    podSpecPath: ['spec', 'template', 'spec'],
  },
  StatefulSet: {
    list: (a, args) => a.apps.listNamespacedStatefulSet(args),
    read: (a, args) => a.apps.readNamespacedStatefulSet(args),
    patch: (a, args) => a.apps.patchNamespacedStatefulSet(args, smp()),
    podSpecPath: ['spec', 'template', 'spec'],
  },
  DaemonSet: {
    list: (a, args) => a.apps.listNamespacedDaemonSet(args),
    read: (a, args) => a.apps.readNamespacedDaemonSet(args),
    patch: (a, args) => a.apps.patchNamespacedDaemonSet(args, smp()),
    podSpecPath: ['spec', 'template', 'spec'],
  },
  CronJob: {
    list: (a, args) => a.batch.listNamespacedCronJob(args),
    read: (a, args) => a.batch.readNamespacedCronJob(args),
    patch: (a, args) => a.batch.patchNamespacedCronJob(args, smp()),
    podSpecPath: ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
  },
};

/**
 * {@link WorkloadClient} for Deployments, StatefulSets, DaemonSets (apps/v1) and CronJobs
 * (batch/v1; containers under `spec.jobTemplate.spec.template.spec`).
 *
 * - `list` sends one list request per kind with the selector as `labelSelector`
 *   (see {@link formatLabelSelector}; an empty or unwritable selector throws
 *   `InvalidLabelSelectorError`). Results are ordered by kind, then as the server listed them.
 * - `get` resolves to `null` on 404.
 * - `patch` sends `application/strategic-merge-patch+json`, so a patch naming one container
 *   (merge key `name`) changes only that container.
 *
 * `Workload.object` is the object in its JSON wire form (timestamps as strings), not a
 * client-node model instance. API failures are thrown as `KubeApiError`.
 */
export class KubeWorkloadClient implements WorkloadClient {
  private readonly apis: Apis;

  constructor(deps: KubeWorkloadClientDeps) {
    this.apis = {
      apps: deps.kubeConfig.makeApiClient(AppsV1Api),
      batch: deps.kubeConfig.makeApiClient(BatchV1Api),
    };
  }

  async list(namespace: string, selector: Record<string, string>): Promise<Workload[]> {
    const labelSelector = formatLabelSelector(selector);
    const perKind = await Promise.all(
      WORKLOAD_KINDS.map(async (kind) => {
        try {
          const list = (await KINDS[kind].list(this.apis, { namespace, labelSelector })) as {
            items?: unknown[];
          };
          return (list.items ?? []).map((item) => toWorkload(kind, item));
        } catch (error) {
          throw toKubeApiError(error, `list ${kind}s in ${namespace} (${labelSelector})`);
        }
      }),
    );
    return perKind.flat();
  }

  async get(kind: WorkloadKind, key: ObjectKey): Promise<Workload | null> {
    try {
      return toWorkload(kind, await KINDS[kind].read(this.apis, key));
    } catch (error) {
      if (isNotFound(error)) return null;
      throw toKubeApiError(error, `get ${kind} ${key.namespace}/${key.name}`);
    }
  }

  async patch(kind: WorkloadKind, key: ObjectKey, patch: object): Promise<Workload> {
    try {
      return toWorkload(kind, await KINDS[kind].patch(this.apis, { ...key, body: patch }));
    } catch (error) {
      throw toKubeApiError(error, `patch ${kind} ${key.namespace}/${key.name}`);
    }
  }
}

/** Where {@link WatchedWorkloadClient} finds which workloads a selector matches. */
export interface SelectedWorkloads {
  /** The workloads of `namespace` matching `selector` as watched; `undefined`: not known yet. */
  selected(namespace: string, selector: Record<string, string>): Workload[] | undefined;
}

const KIND_ORDER = new Map<WorkloadKind, number>(WORKLOAD_KINDS.map((k, i) => [k, i]));

/**
 * A {@link WorkloadClient} whose `list` learns which workloads match from a watch's cache and
 * reads each of them fresh (one GET per selected workload instead of one LIST per kind): what
 * it returns is what the API server holds now, never the cache's copy. The cache only says
 * which to read: a workload it lists but the API server no longer has, or whose labels no
 * longer match, is left out; when the cache knows none (not listed yet, or the workloads were
 * created an instant ago) the kinds are listed as before. `get` and `patch` go straight through.
 */
export class WatchedWorkloadClient implements WorkloadClient {
  constructor(
    private readonly client: WorkloadClient,
    private readonly cache: SelectedWorkloads,
  ) {}

  async list(namespace: string, selector: Record<string, string>): Promise<Workload[]> {
    const known = this.cache.selected(namespace, selector);
    if (!known || known.length === 0) return this.client.list(namespace, selector);
    const fresh = await Promise.all(
      known.map((w) => this.client.get(w.kind, { namespace, name: w.name })),
    );
    return fresh
      .filter((w): w is Workload => w !== null && selectsWorkload(selector, w))
      .sort(
        (a, b) =>
          (KIND_ORDER.get(a.kind) ?? 0) - (KIND_ORDER.get(b.kind) ?? 0) ||
          a.name.localeCompare(b.name),
      );
  }

  get(kind: WorkloadKind, key: ObjectKey): Promise<Workload | null> {
    return this.client.get(kind, key);
  }

  patch(kind: WorkloadKind, key: ObjectKey, patch: object): Promise<Workload> {
    return this.client.patch(kind, key, patch);
  }
}

interface WireObject {
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    generation?: number;
    annotations?: Record<string, string>;
  };
}

/** The wire form of a client-node model (Dates become strings) and the parts cvm reads. */
export function toWorkload(kind: WorkloadKind, model: unknown): Workload {
  return workloadOfWire(kind, JSON.parse(JSON.stringify(model)));
}

/** {@link toWorkload} of an object already in its wire form; `object` is `wire` itself, not a copy. */
export function workloadOfWire(kind: WorkloadKind, wire: unknown): Workload {
  const object = wire as WireObject;
  const podSpec = dig(object, KINDS[kind].podSpecPath) as
    { containers?: unknown[]; initContainers?: unknown[] } | undefined;
  const meta = object.metadata ?? {};
  return {
    kind,
    namespace: meta.namespace ?? '',
    name: meta.name ?? '',
    uid: meta.uid ?? '',
    generation: meta.generation ?? 0,
    annotations: meta.annotations ?? {},
    containers: containersOf(podSpec?.containers),
    initContainers: containersOf(podSpec?.initContainers),
    object,
  };
}

function containersOf(list: unknown[] | undefined): Container[] {
  return (list ?? []).map((c) => {
    const { name, image } = c as { name?: string; image?: string };
    return image === undefined ? { name: name ?? '' } : { name: name ?? '', image };
  });
}

function dig(value: unknown, path: readonly string[]): unknown {
  let current = value;
  for (const key of path) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}
