import { createHmac, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { expect } from 'vitest';
import { loadConfig, type Config } from '../../src/config/config.js';
import { createOpsApp } from '../../src/http/ops-app.js';
import { createKubeAdapters } from '../../src/kube/kube-adapters.js';
import { QueueAdmin } from '../../src/queue/queue-admin.js';
import { HttpServer } from '../../src/lifecycle/http-server.js';
import { Lifecycle } from '../../src/lifecycle/lifecycle.js';
import { Metrics } from '../../src/observability/metrics.js';
import {
  closeConnection,
  createProducerConnection,
  createWorkerConnection,
  waitForReady,
} from '../../src/queue/connections.js';
import { NotificationQueue } from '../../src/queue/notification-queue.js';
import { PushEventQueue } from '../../src/queue/push-event-queue.js';
import { RedisPollState } from '../../src/queue/poll-state.js';
import { RolloutQueue, rolloutDeduplicationId } from '../../src/queue/rollout-queue.js';
import { createReconcilerRole } from '../../src/reconciler/reconciler-role.js';
import { Ingest } from '../../src/receiver/ingest.js';
import { webhookSources } from '../../src/receiver/sources.js';
import { createWebhookApp } from '../../src/receiver/webhook-app.js';
import { registryClientsFor } from '../../src/cli/registry-clients-for.js';
import type { RegistryClients } from '../../src/registry/registry-clients.js';
import type { MetricChecks } from '../../src/workers/ports.js';
import { createWorkerRole } from '../../src/workers/worker-role.js';
import { kubectl } from '../kube-emulator/controllers/kubectl.js';
import { startKubeEmulator, type KubeEmulator } from '../kube-emulator/index.js';
import { DockerRegistry } from './docker-registry.js';
import { skopeoPush, writeOciImage, type OciImageOptions } from './oci-layout.js';
import { MACHINE_REDIS_URL, capturingLogger } from './receiver-parts.js';
import { waitFor } from './wait-for.js';

const CRD = fileURLToPath(new URL('../../infra/kubernetes/crd.yaml', import.meta.url));
export const NOTIFY_TOKEN = 'stack-notify-token-0123456789';
export const GENERIC_SECRET = 'stack-generic-secret-0123456789';

export interface StackOptions {
  /** Start workers in this process (default true); false when a test runs `cvm worker` processes. */
  workers?: boolean;
  /** Start the (leader-elected) reconciler in this process too. Default false. */
  reconciler?: boolean;
  /** Send registry notifications to the receiver (default true); false for "no webhooks". */
  notifications?: boolean;
  /** Emulated seconds per real second in the emulator. Default 10. */
  timeScale?: number;
  podReadySeconds?: number;
  /** Extra CVM_* variables for the workers' configuration. */
  env?: Record<string, string>;
  /** PEM public key: the workers require cosign signatures made with its private key. */
  cosignPublicKey?: string;
  /** Redis of the stack; default the machine's (a prefix of its own). A private one can be restarted. */
  redisUrl?: string;
  /** Registry clients for the workers; default from the configuration, as `cvm worker` builds them. */
  registries?: (registry: DockerRegistry) => RegistryClients;
  /** Canary analysis for the workers; default Prometheus' HTTP API, as `cvm worker` builds it. */
  metricChecks?: MetricChecks;
  /** Give the workers the `notifications` queue (sinks from `env`: CVM_NOTIFY_*). Default false. */
  notify?: boolean;
  /** Serve the ops port (REST API, queue board) with these tokens, as `cvm serve` does. */
  ops?: { opsToken?: string; adminToken?: string };
  /**
   * The kubeconfig cvm uses (its adapters and CVM_KUBECONFIG), made once the CRD is established,
   * e.g. a ServiceAccount's (`emulator.writeServiceAccountKubeconfig`); default the emulator's
   * admin kubeconfig. The stack's own helpers (`kubectl`, `apply`) stay admin.
   */
  cvmKubeconfig?: (emulator: KubeEmulator) => Promise<string> | string;
}

/**
 * The whole push path on real parts: the Kubernetes emulator with the CRD, Debian's docker-registry
 * whose notifications reach an in-process receiver, the machine's Redis (a prefix of its own) and
 * the workers. Helpers push images, create workloads and CVs, and read what happened.
 */
export async function startCvmStack(options: StackOptions = {}) {
  const prefix = `e2e-${randomUUID().slice(0, 8)}`;
  const redisUrl = options.redisUrl ?? MACHINE_REDIS_URL;
  const { logger, lines: logs } = capturingLogger();
  const metrics = new Metrics({ defaultMetrics: false });
  const lifecycle = new Lifecycle({ logger, stopTimeoutMs: 10_000 });
  const emulator: KubeEmulator = await startKubeEmulator({
    port: 0,
    timeScale: options.timeScale ?? 10,
    podReadySeconds: options.podReadySeconds ?? 1,
  });
  const k = (args: string[], input?: string) =>
    kubectl(emulator.kubeconfigPath, args, input === undefined ? {} : { input });
  expect((await k(['apply', '-f', CRD])).code).toBe(0);
  expect(
    (
      await k([
        'wait',
        '--for=condition=established',
        'crd/containerversions.cvm.dev',
        '--timeout=20s',
      ])
    ).code,
  ).toBe(0);

  const cvmKubeconfig = options.cvmKubeconfig
    ? await options.cvmKubeconfig(emulator)
    : emulator.kubeconfigPath;
  const env = {
    CVM_REDIS_URL: redisUrl,
    CVM_QUEUE_PREFIX: prefix,
    CVM_KUBECONFIG: cvmKubeconfig,
    CVM_DISTRIBUTION_TOKENS: NOTIFY_TOKEN,
    CVM_GENERIC_SECRETS: GENERIC_SECRET,
    CVM_LOG_LEVEL: 'debug',
    ...options.env,
  };
  const config: Config = loadConfig(env);
  const connection = { url: redisUrl, connectTimeoutMs: 1_000, logger };
  const producer = createProducerConnection({ ...connection, name: 'e2e-producer' });
  await waitForReady(producer, 5_000);
  const pollState = new RedisPollState(producer, prefix);
  const pushEvents = new PushEventQueue({ connection: producer, prefix, pollState });
  const ingest = new Ingest({ sink: pushEvents, metrics, logger });
  const receiver = new HttpServer({
    name: 'receiver',
    port: 0,
    host: '127.0.0.1',
    handler: createWebhookApp({
      sources: webhookSources(config),
      ingest,
      metrics,
      bodyLimitBytes: config.webhookBodyLimitBytes,
    }),
  });
  const workerConnection = createWorkerConnection({ ...connection, name: 'e2e-worker' });
  lifecycle.add({
    name: 'connections',
    start: () => Promise.resolve(),
    stop: async () => {
      await pushEvents.close();
      await closeConnection(workerConnection);
      await closeConnection(producer);
    },
  });
  await receiver.start(); // the registry's notifications need its URL
  lifecycle.add({ name: 'receiver', start: () => Promise.resolve(), stop: () => receiver.stop() });
  const registry = await DockerRegistry.start(
    options.notifications === false
      ? undefined
      : {
          url: `${receiver.url}/webhooks/distribution`,
          headers: { Authorization: [`Bearer ${NOTIFY_TOKEN}`] },
        },
  );
  const registries = options.registries
    ? options.registries(registry)
    : registryClientsFor(config, metrics);
  const kube = createKubeAdapters({
    kubeconfigPath: cvmKubeconfig,
    requestTimeoutMs: config.kubeRequestTimeoutMs,
    logger,
  });
  lifecycle.add(kube.index);
  const rolloutSink = new RolloutQueue({
    connection: producer,
    prefix,
    attempts: config.rolloutAttempts,
    backoffMs: config.rolloutBackoffMs,
  });
  lifecycle.add({
    name: 'rollout-sink',
    start: () => Promise.resolve(),
    stop: () => rolloutSink.close(),
  });
  const notifications = options.notify
    ? new NotificationQueue({
        connection: producer,
        prefix,
        attempts: config.notifyAttempts,
        backoffMs: config.notifyBackoffMs,
      })
    : undefined;
  if (notifications)
    lifecycle.add({
      name: 'notification-queue',
      start: () => Promise.resolve(),
      stop: () => notifications.close(),
    });
  let ops: HttpServer | undefined;
  if (options.ops) {
    ops = new HttpServer({
      name: 'ops-server',
      port: 0,
      host: '127.0.0.1',
      handler: createOpsApp({
        metrics,
        readiness: [],
        opsToken: options.ops.opsToken,
        adminToken: options.ops.adminToken,
        queues: [
          pushEvents.queue,
          rolloutSink.queue,
          ...(notifications ? [notifications.queue] : []),
        ],
        queueAdmin: new QueueAdmin({
          pushEvents,
          rollouts: rolloutSink,
          ...(notifications ? { notifications } : {}),
        }),
        api: {
          cvs: kube.index,
          workloads: kube.signals,
          writer: kube.store,
          history: kube.history,
          events: kube.eventReader,
        },
      }),
    });
    // The workers' role starts the watcher; without workers the API needs it all the same.
    if (options.workers === false) lifecycle.add(kube.signals);
    lifecycle.add(ops);
  }
  if (options.workers ?? true) {
    const role = createWorkerRole({
      config,
      logger,
      metrics,
      kube,
      registries,
      workerConnection,
      rollouts: rolloutSink,
      rechecks: pollState,
      ...(options.cosignPublicKey ? { cosignPublicKey: options.cosignPublicKey } : {}),
      ...(options.metricChecks ? { metricChecks: options.metricChecks } : {}),
      ...(notifications ? { notifications } : {}),
    });
    for (const component of role.components) if (component !== kube.index) lifecycle.add(component);
  }
  if (options.reconciler) {
    // Drift detection reads the workload watcher, which the workers or the ops server started.
    if (options.workers === false && !options.ops) lifecycle.add(kube.signals);
    const role = createReconcilerRole({
      config,
      logger,
      metrics,
      source: kube.index,
      store: kube.store,
      workloads: kube.workloads,
      workloadCache: kube.signals,
      services: kube.services,
      events: kube.events,
      registries,
      tagWriters: registries,
      history: kube.history,
      rollouts: rolloutSink,
      producerConnection: producer,
    });
    for (const component of role.components) lifecycle.add(component);
  }
  await lifecycle.start();
  const repo = `${registry.host}/team/api`;
  const rolloutsQueue = new Queue('rollouts', { connection: { url: redisUrl }, prefix });
  const notificationsQueue = options.notify
    ? new Queue('notifications', { connection: { url: redisUrl }, prefix })
    : undefined;

  return {
    prefix,
    env,
    emulator,
    registry,
    repo,
    receiver,
    /** The ops port's URL (with `ops`). */
    opsUrl: ops?.url,
    metrics,
    logs,
    pollState,
    kubectl: k,
    /**
     * POSTs a signed generic push event (`{ image, digest?, id? }`) to the receiver (or to the one
     * at `receiverUrl`, a `cvm receiver` process); resolves to the status.
     */
    async postGeneric(
      event: { image: string; digest?: string; id?: string },
      receiverUrl = receiver.url,
    ): Promise<number> {
      const body = JSON.stringify(event);
      const signature = `sha256=${createHmac('sha256', GENERIC_SECRET).update(body).digest('hex')}`;
      const response = await fetch(`${receiverUrl}/webhooks/generic`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-cvm-signature-256': signature },
        body,
        signal: AbortSignal.timeout(10_000),
      });
      return response.status;
    },
    /** Pushes a fresh one-layer image as `repo:<tag>` for each tag; returns its manifest digest. */
    push(tags: string[], image: OciImageOptions & { content?: string } = {}): string {
      const built = writeOciImage(tags[0]!, {
        files: { 'app/content.txt': image.content ?? randomUUID() },
        ...image,
      });
      for (const tag of tags) skopeoPush(built, `${repo}:${tag}`);
      return built.manifestDigest;
    },
    async apply(objects: object[]): Promise<void> {
      const result = await k(
        ['apply', '--validate=false', '-f', '-'],
        JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }),
      );
      expect(result.stderr).toBe('');
    },
    async containerVersion(namespace: string, name: string): Promise<any> {
      return JSON.parse((await k(['get', 'cv', name, '-n', namespace, '-o', 'json'])).stdout);
    },
    async deployment(namespace: string, name: string): Promise<any> {
      return JSON.parse(
        (await k(['get', 'deployment', name, '-n', namespace, '-o', 'json'])).stdout,
      );
    },
    async history(namespace: string, cv: string): Promise<any[]> {
      const result = await k(['get', 'configmap', `${cv}-history`, '-n', namespace, '-o', 'json']);
      if (result.code !== 0) return [];
      return JSON.parse(JSON.parse(result.stdout).data['history.json']);
    },
    /** Waits until the CV's lastRollout has a final result for `digest`. */
    async rolloutOf(
      namespace: string,
      name: string,
      digest: string,
      timeoutMs = 30_000,
    ): Promise<any> {
      return waitFor(
        async () => {
          const cv = await this.containerVersion(namespace, name);
          const last = cv.status?.lastRollout;
          return last?.digest === digest && last.result !== 'Progressing' ? cv : undefined;
        },
        `the rollout of ${digest} in ${namespace}/${name}`,
        { timeoutMs, intervalMs: 200 },
      );
    },
    /** Jobs of the `notifications` queue by state (the stack must be started with `notify`). */
    async notificationJobCounts() {
      if (!notificationsQueue) throw new Error('the stack was started without notify');
      return notificationsQueue.getJobCounts('completed', 'failed', 'active', 'wait', 'delayed');
    },
    async rolloutJobCounts() {
      return rolloutsQueue.getJobCounts('completed', 'failed', 'active', 'wait', 'delayed');
    },
    /** The newest rollout job of one CV that has not finished, if any. */
    async rolloutJob(namespace: string, name: string) {
      const jobs = await rolloutsQueue.getJobs(['wait', 'active', 'delayed', 'prioritized']);
      return jobs
        .filter((j) => j.name === `${namespace}/${name}`)
        .sort((a, b) => b.timestamp - a.timestamp)[0];
    },
    /** Whether a request for one CV came while its job ran and is held for it (BullMQ's `dn:` key). */
    async heldRollout(namespace: string, name: string): Promise<boolean> {
      const key = rolloutsQueue.toKey(`dn:${rolloutDeduplicationId(namespace, name)}`);
      return (await producer.exists(key)) === 1;
    },
    /** Rollout jobs of one CV that have not finished (waiting, active or delayed). */
    async pendingRollouts(namespace: string, name: string): Promise<number> {
      const jobs = await rolloutsQueue.getJobs(['wait', 'active', 'delayed', 'prioritized']);
      return jobs.filter((j) => j.name === `${namespace}/${name}`).length;
    },
    async stop(): Promise<void> {
      await registry.stop();
      await lifecycle.stop();
      registries.stop();
      await rolloutsQueue.obliterate({ force: true }).catch(() => undefined);
      await rolloutsQueue.close();
      await notificationsQueue?.obliterate({ force: true }).catch(() => undefined);
      await notificationsQueue?.close();
      await emulator.stop();
    },
  };
}

export type CvmStack = Awaited<ReturnType<typeof startCvmStack>>;

/** A Deployment labelled `app: <app>` with one container `api`. */
export function deployment(
  namespace: string,
  name: string,
  image: string,
  extra: {
    replicas?: number;
    progressDeadlineSeconds?: number;
    app?: string;
    /** More labels on the Deployment, its selector and its Pods (a colour, a track). */
    labels?: Record<string, string>;
  } = {},
) {
  const labels = { app: extra.app ?? 'api', ...extra.labels };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, labels },
    spec: {
      replicas: extra.replicas ?? 2,
      progressDeadlineSeconds: extra.progressDeadlineSeconds ?? 600,
      selector: { matchLabels: { ...labels, name } },
      template: {
        metadata: { labels: { ...labels, name } },
        spec: {
          containers: [
            { name: 'api', image },
            { name: 'sidecar', image: 'docker.io/library/busybox:1.36' },
          ],
        },
      },
    },
  };
}

export function namespace(name: string) {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name } };
}

export function containerVersion(
  namespaceName: string,
  name: string,
  spec: Record<string, unknown>,
) {
  return {
    apiVersion: 'cvm.dev/v1',
    kind: 'ContainerVersion',
    metadata: { name, namespace: namespaceName },
    spec,
  };
}
