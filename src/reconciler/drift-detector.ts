import { Reason } from '../api/conditions.js';
import type { ContainerVersionSpec } from '../api/container-version.js';
import type { Runnable } from '../lifecycle/runnable.js';
import type { Logger } from '../observability/logger.js';
import { OutageLog } from '../observability/outage-log.js';
import type { RolloutSink } from '../queue/rollout-queue.js';
import { digestOfImage } from '../workers/plan-container-patch.js';
import type {
  ContainerVersionStore,
  EventRecorder,
  ServiceClient,
  ServiceView,
  StoredContainerVersion,
  Workload,
  WorkloadClient,
  WorkloadSignals,
} from '../workers/ports.js';
import { selectsWorkload as selects, workloadReference } from '../workers/rollout-facts.js';
import { STRATEGIES } from '../workers/strategies/strategies.js';
import type { CvSource } from './cv-controller.js';
import { validatedSpec } from './validated-spec.js';

/** The workloads as a watch holds them (the workload watcher), and their changes. */
export interface WorkloadCache extends WorkloadSignals {
  /** The Deployments, StatefulSets, DaemonSets and CronJobs of `namespace`, as last watched. */
  workloads(namespace: string): readonly Workload[];
}

export interface DriftDetectorDeps {
  /** The CVs (the informer) and their changes. */
  cvs: CvSource & { get(namespace: string, name: string): StoredContainerVersion | undefined };
  /** Where drift is looked for: the watched workloads, no API request. */
  cache: WorkloadCache;
  /** Fresh reads that confirm a drift the cache suggests, before anything is done about it. */
  store: Pick<ContainerVersionStore, 'get'>;
  workloads: Pick<WorkloadClient, 'get'>;
  /** BlueGreen: the active Service tells the live colour (the only one that must run the current digest). */
  services?: ServiceClient;
  events: EventRecorder;
  rollouts: RolloutSink;
  logger: Logger;
  /** ms between full passes over every CV (from the cache); a guard, changes are checked as they come. */
  intervalMs: number;
  /**
   * ms from a change (a workload or a CV) until the CVs it concerns are checked; changes within
   * it are checked together, and a rollout's own status write is in the cache by then. Default 1000.
   */
  settleMs?: number;
}

/** The selected workloads whose container does not run the CV's current digest; pure. */
export function driftedWorkloads(
  workloads: readonly Workload[],
  container: string,
  currentDigest: string,
): Workload[] {
  return workloads.filter((w) => {
    const c = [...w.containers, ...w.initContainers].find((x) => x.name === container);
    return c !== undefined && digestOfImage(c.image) !== currentDigest;
  });
}

/** Workloads by `label=value`. */
type LabelIndex = Map<string, Workload[]>;

function labelIndex(workloads: readonly Workload[]): LabelIndex {
  const index: LabelIndex = new Map();
  for (const w of workloads) {
    const labels = (w.object as { metadata?: { labels?: Record<string, string> } } | undefined)
      ?.metadata?.labels;
    for (const [k, v] of Object.entries(labels ?? {})) {
      const key = `${k}=${v}`;
      const list = index.get(key);
      if (list) list.push(w);
      else index.set(key, [w]);
    }
  }
  return index;
}

const keyOf = (cv: { metadata: { namespace: string; name: string } }) =>
  `${cv.metadata.namespace}/${cv.metadata.name}`;

/** The CV's spec when drift is looked for: valid, not suspended, with a current digest and no rollout in flight. */
function judgeable(
  cv: StoredContainerVersion,
): { spec: ContainerVersionSpec; digest: string } | undefined {
  const validation = validatedSpec(cv);
  const digest = cv.status?.currentDigest;
  if (
    !validation.ok ||
    validation.value.suspend ||
    !digest ||
    cv.status?.rollout ||
    cv.status?.lastRollout?.result === 'Progressing'
  )
    return undefined;
  return { spec: validation.value, digest };
}

/** The namespaces whose workloads a CV selects: its own, and a BlueGreen CV's colour namespaces. */
function namespacesOf(cv: StoredContainerVersion): string[] {
  const validation = validatedSpec(cv);
  const own = cv.metadata.namespace;
  if (!validation.ok) return [own];
  const spec = validation.value;
  return (spec.strategy.type === 'BlueGreen' && spec.strategy.blueGreen?.namespaces) || [own];
}

/**
 * Self-healing: a CV that has a current digest and no rollout in progress is compared with its
 * selected workloads; one whose container runs something else (changed by hand, or a new workload
 * that matches the selector) gets a `DriftCorrected` Event and a rollout back to the CV's version.
 * Suspended CVs are left alone.
 *
 * Drift is looked for in the workload watcher's cache, not with LISTs: the CVs of a namespace are
 * checked `settleMs` after one of its workloads (or the CV) changed, and every CV once every
 * `intervalMs`. Idle, that costs no API request however many CVs there are. A drift the cache
 * shows is confirmed with a GET of the CV and of each drifted workload before the Event and the
 * rollout, so a cache behind a rollout cvm itself is making (its status write, its patch) is
 * never taken for drift.
 */
export class DriftDetector implements Runnable {
  readonly name = 'drift-detector';
  #timer: NodeJS.Timeout | undefined;
  #settle: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #unsubscribe: (() => void)[] = [];
  /** The CVs (`ns/name`) to check at the next settle, or every CV (`all`). */
  #dirty = new Set<string>();
  #dirtyAll = false;
  /** CV keys by the namespaces whose workloads they select. */
  readonly #byNamespace = new Map<string, Set<string>>();
  readonly #namespacesOfCv = new Map<string, string[]>();
  #failures: OutageLog | undefined;
  /**
   * CVs whose drift in the cache a fresh read did not confirm (BlueGreen's idle colour runs the
   * previous version on purpose), by what the cache showed: not read again until that changes,
   * or `10 × intervalMs` passed.
   */
  readonly #notDrift = new Map<string, { seen: string; atMs: number }>();
  /**
   * CVs whose drift was corrected (Event, rollout enqueued) at the resourceVersion they had: not
   * corrected again until their rollout changes them, or a full interval passed.
   */
  readonly #corrected = new Map<string, { resourceVersion: string; atMs: number }>();

  constructor(private readonly deps: DriftDetectorDeps) {}

  start(): Promise<void> {
    this.#failures = new OutageLog(this.deps.logger, {
      failed: 'drift check failed',
      recovered: 'drift checks work again',
    });
    for (const cv of this.deps.cvs.list()) this.#index(cv);
    this.#unsubscribe = [
      this.deps.cvs.onChange(({ type, object }) => {
        if (type === 'delete') {
          this.#unindex(keyOf(object));
          this.#notDrift.delete(keyOf(object));
          this.#corrected.delete(keyOf(object));
        } else this.#index(object);
        this.#mark(keyOf(object));
      }),
      this.deps.cache.onChange((signal) => {
        if (signal.kind === 'Job') return;
        for (const key of this.#byNamespace.get(signal.namespace) ?? []) this.#mark(key);
      }),
    ];
    this.#timer = setInterval(() => {
      this.#dirtyAll = true;
      this.#run();
    }, this.deps.intervalMs);
    return Promise.resolve();
  }

  async stop(): Promise<void> {
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
    this.#unsubscribe = [];
    clearInterval(this.#timer);
    clearTimeout(this.#settle);
    this.#settle = undefined;
    await this.#running;
  }

  #index(cv: StoredContainerVersion): void {
    const key = keyOf(cv);
    const namespaces = namespacesOf(cv);
    const before = this.#namespacesOfCv.get(key);
    if (
      before &&
      before.length === namespaces.length &&
      before.every((n, i) => n === namespaces[i])
    )
      return;
    this.#unindex(key);
    this.#namespacesOfCv.set(key, namespaces);
    for (const ns of namespaces) {
      let keys = this.#byNamespace.get(ns);
      if (!keys) this.#byNamespace.set(ns, (keys = new Set()));
      keys.add(key);
    }
  }

  #unindex(key: string): void {
    for (const ns of this.#namespacesOfCv.get(key) ?? []) {
      const keys = this.#byNamespace.get(ns);
      keys?.delete(key);
      if (keys?.size === 0) this.#byNamespace.delete(ns);
    }
    this.#namespacesOfCv.delete(key);
  }

  #mark(key: string): void {
    this.#dirty.add(key);
    this.#settle ??= setTimeout(() => {
      this.#settle = undefined;
      this.#run();
    }, this.deps.settleMs ?? 1_000);
  }

  /** Checks what is dirty now, one pass at a time; what turns dirty meanwhile waits for the next. */
  #run(): void {
    if (this.#running) {
      // A pass is running: check again once it ends.
      void this.#running.then(() => {
        if (this.#dirty.size > 0 || this.#dirtyAll) this.#run();
      });
      return;
    }
    const all = this.#dirtyAll;
    const keys = this.#dirty;
    this.#dirtyAll = false;
    this.#dirty = new Set();
    if (!all && keys.size === 0) return;
    const cvs = all
      ? this.deps.cvs.list()
      : [...keys].flatMap((k) => {
          const [namespace = '', name = ''] = k.split('/');
          const cv = this.deps.cvs.get(namespace, name);
          return cv ? [cv] : [];
        });
    this.#running = this.check(cvs)
      .then(() => this.#failures?.recovered())
      .catch((error: unknown) => this.#failures?.failed(error))
      .finally(() => (this.#running = undefined));
  }

  /**
   * The selected workloads that must run the current digest: all of them, except under
   * BlueGreen (the live colour only: the other one keeps the previous version on purpose) and
   * Canary (the stable workload).
   */
  async #tracked(
    cv: StoredContainerVersion,
    spec: ContainerVersionSpec,
    selected: Workload[],
  ): Promise<Workload[]> {
    const strategy = STRATEGIES[spec.strategy.type];
    if (!strategy?.tracked) return selected;
    const keys = strategy.services?.(spec, cv.metadata.namespace) ?? [];
    const services = new Map<string, ServiceView | null>();
    if (this.deps.services)
      for (const key of keys)
        services.set(`${key.namespace}/${key.name}`, await this.deps.services.get(key));
    // Without the Services (or with a setup the strategy refuses) nothing is judged as drift.
    return [...(strategy.tracked({ cv, spec, selected, services, now: new Date() }) ?? [])];
  }

  /**
   * The workloads of the CV that drifted, from the cache. `index` holds, per namespace, the
   * cached workloads by `label=value`, built once per pass: a CV looks only at those with one of
   * its selector's pairs, not at every workload of its namespace.
   */
  #driftInCache(cv: StoredContainerVersion, index = new Map<string, LabelIndex>()): Workload[] {
    const judged = judgeable(cv);
    if (!judged) return [];
    const { selector } = judged.spec;
    const [first] = Object.entries(selector);
    const selected = namespacesOf(cv).flatMap((ns) => {
      if (!first) return this.deps.cache.workloads(ns).filter((w) => selects(selector, w));
      let labels = index.get(ns);
      if (!labels) index.set(ns, (labels = labelIndex(this.deps.cache.workloads(ns))));
      return (labels.get(`${first[0]}=${first[1]}`) ?? []).filter((w) => selects(selector, w));
    });
    return driftedWorkloads(selected, judged.spec.container, judged.digest);
  }

  /** Checks `cvs` (default every CV) against the cache; returns how many rollouts it enqueued. */
  async check(cvs: readonly StoredContainerVersion[] = this.deps.cvs.list()): Promise<number> {
    let enqueued = 0;
    const now = Date.now();
    const index = new Map<string, LabelIndex>();
    for (const cached of cvs) {
      const key = keyOf(cached);
      // Most CVs run their digest: no I/O for them.
      const suspects = this.#driftInCache(cached, index);
      if (suspects.length === 0) {
        this.#notDrift.delete(key);
        this.#corrected.delete(key);
        continue;
      }
      const seen = [cached, ...suspects.map((w) => w.object as StoredContainerVersion)]
        .map((o) => `${o?.metadata?.name}@${o?.metadata?.resourceVersion}`)
        .join(' ');
      const known = this.#notDrift.get(key);
      if (known?.seen === seen && now - known.atMs < 10 * this.deps.intervalMs) continue;
      const corrected = this.#corrected.get(key);
      if (
        corrected?.resourceVersion === cached.metadata.resourceVersion &&
        now - corrected.atMs < this.deps.intervalMs
      )
        continue;
      if (await this.#correct(cached)) {
        this.#notDrift.delete(key);
        this.#corrected.set(key, { resourceVersion: cached.metadata.resourceVersion, atMs: now });
        enqueued += 1;
      } else this.#notDrift.set(key, { seen, atMs: now });
    }
    return enqueued;
  }

  /** Confirms the drift with fresh reads and, if it holds, records it and rolls back. */
  async #correct(cached: StoredContainerVersion): Promise<boolean> {
    const cv = await this.deps.store.get({
      namespace: cached.metadata.namespace,
      name: cached.metadata.name,
    });
    const judged = cv ? judgeable(cv) : undefined;
    if (!cv || !judged) return false;
    const { spec, digest } = judged;
    const candidates = this.#driftInCache(cv);
    const fresh = (
      await Promise.all(
        candidates.map((w) =>
          this.deps.workloads.get(w.kind, { namespace: w.namespace, name: w.name }),
        ),
      )
    ).filter((w): w is Workload => w !== null && selects(spec.selector, w));
    if (driftedWorkloads(fresh, spec.container, digest).length === 0) return false;
    // The strategy's view (BlueGreen's live colour, Canary's stable workload) of what is selected.
    const selected = namespacesOf(cv).flatMap((ns) =>
      this.deps.cache
        .workloads(ns)
        .filter((w) => selects(spec.selector, w))
        .map(
          (w) =>
            fresh.find(
              (f) => f.kind === w.kind && f.namespace === w.namespace && f.name === w.name,
            ) ?? w,
        ),
    );
    const drifted = driftedWorkloads(
      await this.#tracked(cv, spec, selected),
      spec.container,
      digest,
    )
      // Only what a fresh read confirmed.
      .filter((w) => fresh.includes(w));
    if (drifted.length === 0) return false;
    for (const w of drifted) {
      await this.deps.events.record(
        workloadReference(w),
        'Normal',
        Reason.DriftCorrected,
        `${spec.container} does not run ${cv.status?.currentImage ?? digest}; ContainerVersion ${cv.metadata.name} rolls it back`,
      );
    }
    await this.deps.rollouts.enqueue({
      namespace: cv.metadata.namespace,
      name: cv.metadata.name,
      uid: cv.metadata.uid,
      trigger: { kind: 'drift', digest, receivedAt: new Date().toISOString() },
    });
    this.deps.logger.info({ cv: keyOf(cv), workloads: drifted.map((w) => w.name) }, 'drift found');
    return true;
  }
}
