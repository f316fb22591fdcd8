import type { KubeObject } from '../contract.js';

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Sets `object[key]` to `value` when it is absent; returns the (possibly new) value. */
function fill<T>(object: Json, key: string, value: T): unknown {
  if (object[key] === undefined || object[key] === null) object[key] = value;
  return object[key];
}

function imagePullPolicy(image: unknown): string {
  if (typeof image !== 'string') return 'IfNotPresent';
  const withoutDigest = image.split('@')[0] ?? image;
  const lastSegment = withoutDigest.split('/').pop() ?? '';
  if (image.includes('@')) return 'IfNotPresent';
  const tag = lastSegment.includes(':') ? lastSegment.split(':').pop() : undefined;
  return tag === undefined || tag === 'latest' ? 'Always' : 'IfNotPresent';
}

function defaultContainer(container: unknown): void {
  if (!isObject(container)) return;
  fill(container, 'imagePullPolicy', imagePullPolicy(container.image));
  fill(container, 'terminationMessagePath', '/dev/termination-log');
  fill(container, 'terminationMessagePolicy', 'File');
  fill(container, 'resources', {});
  const ports = container.ports;
  if (Array.isArray(ports)) for (const p of ports) if (isObject(p)) fill(p, 'protocol', 'TCP');
}

/** Pod spec defaults as kube-apiserver fills them (pods and pod templates). */
export function defaultPodSpec(spec: unknown, restartPolicy: string | undefined = 'Always'): void {
  if (!isObject(spec)) return;
  if (restartPolicy !== undefined) fill(spec, 'restartPolicy', restartPolicy);
  fill(spec, 'terminationGracePeriodSeconds', 30);
  fill(spec, 'dnsPolicy', 'ClusterFirst');
  fill(spec, 'securityContext', {});
  fill(spec, 'schedulerName', 'default-scheduler');
  for (const list of ['containers', 'initContainers']) {
    const containers = spec[list];
    if (Array.isArray(containers)) containers.forEach(defaultContainer);
  }
}

function templateSpec(object: KubeObject): unknown {
  const spec: unknown = object.spec;
  if (!isObject(spec) || !isObject(spec.template)) return undefined;
  return spec.template.spec;
}

function specOf(object: KubeObject): Json {
  if (!isObject(object.spec)) object.spec = {};
  return object.spec as Json;
}

const defaulters: Record<string, (object: KubeObject) => void> = {
  'deployments.apps': (o) => {
    const spec = specOf(o);
    fill(spec, 'replicas', 1);
    const strategy = fill(spec, 'strategy', {}) as Json;
    fill(strategy, 'type', 'RollingUpdate');
    if (strategy.type === 'RollingUpdate') {
      const rolling = fill(strategy, 'rollingUpdate', {}) as Json;
      fill(rolling, 'maxUnavailable', '25%');
      fill(rolling, 'maxSurge', '25%');
    }
    fill(spec, 'revisionHistoryLimit', 10);
    fill(spec, 'progressDeadlineSeconds', 600);
    defaultPodSpec(templateSpec(o));
  },
  'replicasets.apps': (o) => {
    fill(specOf(o), 'replicas', 1);
    defaultPodSpec(templateSpec(o));
  },
  'statefulsets.apps': (o) => {
    const spec = specOf(o);
    fill(spec, 'replicas', 1);
    fill(spec, 'podManagementPolicy', 'OrderedReady');
    const strategy = fill(spec, 'updateStrategy', {}) as Json;
    fill(strategy, 'type', 'RollingUpdate');
    if (strategy.type === 'RollingUpdate')
      fill(fill(strategy, 'rollingUpdate', {}) as Json, 'partition', 0);
    fill(spec, 'revisionHistoryLimit', 10);
    fill(spec, 'persistentVolumeClaimRetentionPolicy', {
      whenDeleted: 'Retain',
      whenScaled: 'Retain',
    });
    defaultPodSpec(templateSpec(o));
  },
  'daemonsets.apps': (o) => {
    const spec = specOf(o);
    const strategy = fill(spec, 'updateStrategy', {}) as Json;
    fill(strategy, 'type', 'RollingUpdate');
    if (strategy.type === 'RollingUpdate') {
      const rolling = fill(strategy, 'rollingUpdate', {}) as Json;
      fill(rolling, 'maxUnavailable', 1);
      fill(rolling, 'maxSurge', 0);
    }
    fill(spec, 'revisionHistoryLimit', 10);
    defaultPodSpec(templateSpec(o));
  },
  'jobs.batch': (o) => {
    const spec = specOf(o);
    fill(spec, 'parallelism', 1);
    fill(spec, 'completions', 1);
    fill(spec, 'backoffLimit', 6);
    fill(spec, 'completionMode', 'NonIndexed');
    fill(spec, 'suspend', false);
    defaultPodSpec(templateSpec(o), undefined);
  },
  'cronjobs.batch': (o) => {
    const spec = specOf(o);
    fill(spec, 'concurrencyPolicy', 'Allow');
    fill(spec, 'suspend', false);
    fill(spec, 'successfulJobsHistoryLimit', 3);
    fill(spec, 'failedJobsHistoryLimit', 1);
    const jobTemplate: unknown = spec.jobTemplate;
    if (
      isObject(jobTemplate) &&
      isObject(jobTemplate.spec) &&
      isObject(jobTemplate.spec.template)
    ) {
      defaultPodSpec(jobTemplate.spec.template.spec, undefined);
    }
  },
  pods: (o) => {
    const spec = specOf(o);
    defaultPodSpec(spec);
    fill(spec, 'enableServiceLinks', true);
    fill(spec, 'preemptionPolicy', 'PreemptLowerPriority');
    fill(spec, 'priority', 0);
  },
  services: (o) => {
    const spec = specOf(o);
    fill(spec, 'type', 'ClusterIP');
    fill(spec, 'sessionAffinity', 'None');
    fill(spec, 'ipFamilies', ['IPv4']);
    fill(spec, 'ipFamilyPolicy', 'SingleStack');
    fill(spec, 'internalTrafficPolicy', 'Cluster');
    const ports = spec.ports;
    if (Array.isArray(ports)) {
      for (const p of ports) {
        if (!isObject(p)) continue;
        fill(p, 'protocol', 'TCP');
        fill(p, 'targetPort', p.port);
      }
    }
  },
  secrets: (o) => {
    fill(o as Json, 'type', 'Opaque');
  },
  namespaces: (o) => {
    fill(specOf(o), 'finalizers', ['kubernetes']);
    const name = o.metadata.name;
    if (name) o.metadata.labels = { ...o.metadata.labels, 'kubernetes.io/metadata.name': name };
  },
};

/** Fills kube-apiserver's defaults for a built-in resource in place (no-op for others). */
export function applyBuiltinDefaults(resource: string, object: KubeObject): void {
  defaulters[resource]?.(object);
}
