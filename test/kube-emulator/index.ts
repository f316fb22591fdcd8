import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClock } from './clock.js';
import type { EmulatorClock } from './contract.js';
import { startControllers } from './controllers/index.js';
import { startCrdController } from './crd/crd-controller.js';
import { Faults } from './faults.js';
import { writeKubeconfig } from './kubeconfig.js';
import { Rbac } from './rbac/rbac.js';
import { seedCluster } from './seed.js';
import { startApiServer, type RequestRecord } from './server.js';
import { MemoryStore } from './store.js';

export interface KubeEmulatorOptions {
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** Where to write the kubeconfig; default a file in a new temp directory (removed on stop). */
  kubeconfigPath?: string;
  /** Emulated seconds per real second; default 1. */
  timeScale?: number;
  /** Emulated seconds from a Pod's creation until it is Running and Ready; default 1. */
  podReadySeconds?: number;
  /** Node names; default `['node-1']`. */
  nodes?: string[];
  /** Substrings of image references whose Pods never become Ready; default none. */
  neverReady?: string[];
  /**
   * Substrings of image references whose containers crash-loop in long-running Pods: Ready, then
   * `crashAfterSeconds` later exit code 1, CrashLoopBackOff, Ready again `podReadySeconds` after
   * that, and so on, with restartCount growing; default none.
   */
  crashing?: string[];
  /** Emulated seconds a crash-looping container runs before it crashes; default 2. */
  crashAfterSeconds?: number;
  /** Real milliseconds between watch BOOKMARKs (when a client allows them); default 1000. */
  bookmarkIntervalMs?: number;
  /** Watch events retained for resuming from a resourceVersion; default 10 000. */
  historyLimit?: number;
}

export interface KubeEmulator {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  port: number;
  kubeconfigPath: string;
  store: MemoryStore;
  clock: EmulatorClock;
  faults: Faults;
  /** Every request received, in order (method, path, query, contentType, body, status). */
  requests: RequestRecord[];
  /**
   * ServiceAccount tokens and RBAC: `rbac.serviceAccountToken(ns, name)` mints a token whose
   * requests the Roles, ClusterRoles and bindings in the store authorize (403 otherwise);
   * `rbac.usage(ns, name)` lists what that ServiceAccount was allowed to do.
   */
  rbac: Rbac;
  /**
   * Writes a kubeconfig whose user is the ServiceAccount `namespace/name` (a fresh token from
   * `rbac`), with `namespace` as the context's namespace; returns its path (under the
   * emulator's temp directory unless `path` is given).
   */
  writeServiceAccountKubeconfig(namespace: string, name: string, path?: string): string;
  /** Replaces the never-ready image substrings; applies to Pods evaluated from now on. */
  setNeverReady(substrings: string[]): void;
  /**
   * Replaces the crashing image substrings; applies to containers started from now on and to
   * the next crash of those already looping (a container whose image no longer matches stays up).
   */
  setCrashing(substrings: string[]): void;
  /** Forgets the watch history: watches from an older resourceVersion get 410 Gone. */
  compact(): void;
  /** Ends every open watch stream; clients reconnect from their last resourceVersion. */
  closeWatches(): void;
  /** Stops controllers and the server, ends open watches; idempotent. */
  stop(): Promise<void>;
}

/** Starts the Kubernetes API emulator with its simulated controllers. */
export async function startKubeEmulator(options: KubeEmulatorOptions = {}): Promise<KubeEmulator> {
  const clock = createClock(options.timeScale ?? 1);
  const store = new MemoryStore({
    now: () => clock.now(),
    historyLimit: options.historyLimit ?? 10_000,
  });
  const nodes = options.nodes ?? ['node-1'];
  let neverReady = [...(options.neverReady ?? [])];
  let crashing = [...(options.crashing ?? [])];
  const matches = (substrings: string[], image: string) =>
    substrings.some((s) => s !== '' && image.includes(s));
  const stopCrds = startCrdController(store, () => clock.now());
  const stopSeed = seedCluster(store, nodes);
  const controllers = startControllers({
    store,
    clock,
    nodes,
    podReadySeconds: options.podReadySeconds ?? 1,
    neverReady: (image) => matches(neverReady, image),
    crashing: (image) => matches(crashing, image),
    crashAfterSeconds: options.crashAfterSeconds ?? 2,
  });
  const faults = new Faults();
  const requests: RequestRecord[] = [];
  const rbac = new Rbac(store);
  const server = await startApiServer(options.port ?? 0, {
    store,
    faults,
    requests,
    bookmarkIntervalMs: options.bookmarkIntervalMs ?? 1000,
    now: () => clock.now(),
    rbac,
  });
  const tempDir = options.kubeconfigPath
    ? undefined
    : mkdtempSync(join(tmpdir(), 'kube-emulator-'));
  const kubeconfigPath = options.kubeconfigPath ?? join(tempDir ?? '', 'kubeconfig');
  writeKubeconfig(kubeconfigPath, server.url);
  const extraDir = tempDir ?? mkdtempSync(join(tmpdir(), 'kube-emulator-sa-'));
  let stopped: Promise<void> | undefined;
  return {
    url: server.url,
    port: server.port,
    kubeconfigPath,
    store,
    clock,
    faults,
    requests,
    rbac,
    writeServiceAccountKubeconfig: (namespace, name, path) => {
      const target = path ?? join(extraDir, `kubeconfig-${namespace}-${name}`);
      writeKubeconfig(target, server.url, {
        namespace,
        token: rbac.serviceAccountToken(namespace, name),
      });
      return target;
    },
    setNeverReady: (substrings) => {
      neverReady = [...substrings];
    },
    setCrashing: (substrings) => {
      crashing = [...substrings];
    },
    compact: () => store.compact(),
    closeWatches: () => server.closeWatches(),
    stop: () => {
      stopped ??= (async () => {
        controllers.stop();
        stopSeed();
        stopCrds();
        await server.close();
        rmSync(extraDir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}

export type { FaultRule } from './faults.js';
export type { RequestRecord } from './server.js';
export type { AccessRecord } from './rbac/rbac.js';
