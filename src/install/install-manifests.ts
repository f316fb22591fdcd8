import { stringify } from 'yaml';
import { CONFIG_KEYS } from '../config/config.js';
import { containerVersionCrd } from '../api/crd.js';
import { familiarImageRef, parseImageRef } from '../events/image-ref.js';
import { CI_ROLE, CI_RULES, CLUSTER_RULES, NAMESPACE_RULES } from './rbac-rules.js';

/** A Kubernetes object as written to a manifest. */
export type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> } & Record<
    string,
    unknown
  >;
} & Record<string, unknown>;

/** What `cvm manifests all` and the kustomize base and overlays are generated from. */
export interface InstallOptions {
  /** Namespace of cvm itself (Deployments, Redis, the Lease); default `cvm-system`. */
  namespace: string;
  /** cvm's image; default `ghcr.io/cvm-dev/cvm:<package version>`. */
  image: string;
  /** `serve`: one Deployment runs every role; `split`: receiver, worker and reconciler ×2 each. */
  topology: 'serve' | 'split';
  /** `statefulset`: Redis in the namespace, AOF on a PVC; `external`: URL from the Secret `cvm-redis`. */
  redis: 'statefulset' | 'external';
}

/** The Secret the user creates: its keys are CVM_* variables (tokens, webhook secrets). */
export const CVM_SECRET = 'cvm';
/** The Secret of the external-redis overlay: key `url`, a redis:// or rediss:// URL. */
export const REDIS_SECRET = 'cvm-redis';
/**
 * An optional Secret of files, mounted at {@link FILES_DIR}: registry credentials, a cosign key,
 * a Redis CA; the `cvm` Secret points at them (`CVM_REGISTRY_AUTH_FILE=/etc/cvm/files/config.json`).
 */
export const FILES_SECRET = 'cvm-files';
export const FILES_DIR = '/etc/cvm/files';
export const SERVICE_ACCOUNT = 'cvm';
export const WEBHOOK_PORT = Number(CONFIG_KEYS.webhookPort.default);
export const OPS_PORT = Number(CONFIG_KEYS.opsPort.default);
const REDIS_PORT = 6379;
const REDIS_IMAGE = 'redis:7.4-alpine';
/** The image's user (Dockerfile); numeric, so the kubelet can check runAsNonRoot. */
const CVM_UID = 10001;
/** The official Redis image's `redis` user. */
const REDIS_UID = 999;

type CvmRole = 'serve' | 'receiver' | 'worker' | 'reconciler';

const NAME_LABEL = 'app.kubernetes.io/name';
const COMPONENT_LABEL = 'app.kubernetes.io/component';
const PART_OF = { 'app.kubernetes.io/part-of': 'cvm' };

const cvmLabels = (role: CvmRole) => ({ [NAME_LABEL]: 'cvm', [COMPONENT_LABEL]: role });
const redisLabels = { [NAME_LABEL]: 'cvm-redis', [COMPONENT_LABEL]: 'redis' };
const deploymentName = (role: CvmRole) => (role === 'serve' ? 'cvm' : `cvm-${role}`);

/** Defaults of {@link InstallOptions}, as in `infra/kubernetes`. */
export function defaultInstallOptions(version: string): InstallOptions {
  return {
    namespace: 'cvm-system',
    image: `ghcr.io/cvm-dev/cvm:${version}`,
    topology: 'serve',
    redis: 'statefulset',
  };
}

const meta = (name: string, namespace: string | undefined, labels: Record<string, string>) => ({
  name,
  ...(namespace === undefined ? {} : { namespace }),
  labels: { ...labels, ...PART_OF },
});

function namespaceObject(o: InstallOptions): Manifest {
  // Every pod of the install meets the `restricted` Pod Security Standard.
  const podSecurityLabels = {
    'pod-security.kubernetes.io/enforce': 'restricted',
    'pod-security.kubernetes.io/warn': 'restricted',
  };
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: meta(o.namespace, undefined, podSecurityLabels),
  };
}

/**
 * ServiceAccount, least-privilege ClusterRole and Role (the Lease), and their bindings; and the
 * unbound ClusterRole `cvm-ci` for the CLI in CI.
 */
export function rbacObjects(o: InstallOptions): Manifest[] {
  const subjects = [{ kind: 'ServiceAccount', name: SERVICE_ACCOUNT, namespace: o.namespace }];
  const rbac = 'rbac.authorization.k8s.io/v1';
  const roleRef = (kind: string) => ({ apiGroup: 'rbac.authorization.k8s.io', kind, name: 'cvm' });
  return [
    {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: meta(SERVICE_ACCOUNT, o.namespace, {}),
    },
    {
      apiVersion: rbac,
      kind: 'ClusterRole',
      metadata: meta('cvm', undefined, {}),
      rules: CLUSTER_RULES.map((r) => ({ ...r })),
    },
    {
      apiVersion: rbac,
      kind: 'ClusterRoleBinding',
      metadata: meta('cvm', undefined, {}),
      roleRef: roleRef('ClusterRole'),
      subjects,
    },
    {
      // Unbound: a RoleBinding per namespace gives it to a CI ServiceAccount (README).
      apiVersion: rbac,
      kind: 'ClusterRole',
      metadata: meta(CI_ROLE, undefined, {}),
      rules: CI_RULES.map((r) => ({ ...r })),
    },
    {
      apiVersion: rbac,
      kind: 'Role',
      metadata: meta('cvm', o.namespace, {}),
      rules: NAMESPACE_RULES.map((r) => ({ ...r })),
    },
    {
      apiVersion: rbac,
      kind: 'RoleBinding',
      metadata: meta('cvm', o.namespace, {}),
      roleRef: roleRef('Role'),
      subjects,
    },
  ];
}

const restricted = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ['ALL'] },
};
const podSecurity = (uid: number) => ({
  runAsNonRoot: true,
  runAsUser: uid,
  runAsGroup: uid,
  fsGroup: uid,
  seccompProfile: { type: 'RuntimeDefault' },
});

function redisUrlEnv(o: InstallOptions): Record<string, unknown> {
  return o.redis === 'external'
    ? { name: 'CVM_REDIS_URL', valueFrom: { secretKeyRef: { name: REDIS_SECRET, key: 'url' } } }
    : { name: 'CVM_REDIS_URL', value: `redis://cvm-redis.${o.namespace}.svc:${REDIS_PORT}` };
}

/** The `cvm` container's environment: Redis, the Lease's namespace; the rest from the Secret. */
export function cvmEnv(o: InstallOptions): Record<string, unknown>[] {
  return [
    redisUrlEnv(o),
    {
      name: 'CVM_LEASE_NAMESPACE',
      valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } },
    },
  ];
}

function cvmDeployment(o: InstallOptions, role: CvmRole, replicas: number): Manifest {
  const labels = cvmLabels(role);
  const serves = role === 'serve' || role === 'receiver';
  const probe = (path: string, periodSeconds: number) => ({
    httpGet: { path, port: 'ops' },
    periodSeconds,
    timeoutSeconds: 2,
    failureThreshold: 3,
  });
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta(deploymentName(role), o.namespace, labels),
    spec: {
      replicas,
      selector: { matchLabels: labels },
      // A new pod is ready before an old one stops: webhooks keep being answered, and the
      // Lease moves to a running reconciler (this is also how cvm updates itself).
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: { labels: { ...labels, ...PART_OF } },
        spec: {
          serviceAccountName: SERVICE_ACCOUNT,
          // No Service links: the kubelet would add CVM_OPS_PORT=tcp://… and CVM_*_SERVICE_HOST for
          // the cvm-* Services, and cvm refuses unknown or malformed CVM_* keys at start.
          enableServiceLinks: false,
          // CVM_SHUTDOWN_TIMEOUT_MS plus a margin: intake stops, workers drain.
          terminationGracePeriodSeconds:
            Math.ceil(Number(CONFIG_KEYS.shutdownTimeoutMs.default) / 1000) + 5,
          securityContext: podSecurity(CVM_UID),
          containers: [
            {
              name: 'cvm',
              image: o.image,
              args: [role],
              ports: [
                ...(serves ? [{ name: 'webhooks', containerPort: WEBHOOK_PORT }] : []),
                { name: 'ops', containerPort: OPS_PORT },
              ],
              env: cvmEnv(o),
              envFrom: [{ secretRef: { name: CVM_SECRET } }],
              startupProbe: { ...probe('/healthz', 2), failureThreshold: 30 },
              livenessProbe: probe('/healthz', 10),
              readinessProbe: probe('/readyz', 5),
              resources: {
                requests: { cpu: '100m', memory: '128Mi' },
                limits: { memory: '512Mi' },
              },
              securityContext: restricted,
              volumeMounts: [
                { name: 'tmp', mountPath: '/tmp' },
                { name: 'files', mountPath: FILES_DIR, readOnly: true },
              ],
            },
          ],
          volumes: [
            { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
            { name: 'files', secret: { secretName: FILES_SECRET, optional: true } },
          ],
        },
      },
    },
  };
}

function pdb(o: InstallOptions, role: CvmRole): Manifest {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: meta(deploymentName(role), o.namespace, cvmLabels(role)),
    // One pod at a time: a drain never takes every receiver (or every worker) at once.
    spec: { maxUnavailable: 1, selector: { matchLabels: cvmLabels(role) } },
  };
}

const cvmRoles = (o: InstallOptions): [CvmRole, number][] =>
  o.topology === 'serve'
    ? [['serve', 1]]
    : [
        ['receiver', 2],
        ['worker', 2],
        ['reconciler', 2],
      ];

/** The webhook Service (the one to expose, e.g. by an Ingress) and the ops Service. */
function services(o: InstallOptions): Manifest[] {
  const intake: CvmRole = o.topology === 'serve' ? 'serve' : 'receiver';
  return [
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta('cvm-webhooks', o.namespace, cvmLabels(intake)),
      spec: {
        selector: cvmLabels(intake),
        ports: [{ name: 'webhooks', port: WEBHOOK_PORT, targetPort: 'webhooks' }],
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta('cvm-ops', o.namespace, { [NAME_LABEL]: 'cvm' }),
      spec: {
        selector: { [NAME_LABEL]: 'cvm' },
        ports: [{ name: 'ops', port: OPS_PORT, targetPort: 'ops' }],
      },
    },
  ];
}

/** Redis for BullMQ: one replica, AOF (fsync every second) on a PVC, no eviction. */
export function redisObjects(o: InstallOptions): Manifest[] {
  return [
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta('cvm-redis', o.namespace, redisLabels),
      spec: {
        selector: redisLabels,
        ports: [{ name: 'redis', port: REDIS_PORT, targetPort: 'redis' }],
      },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: meta('cvm-redis', o.namespace, redisLabels),
      spec: {
        serviceName: 'cvm-redis',
        replicas: 1,
        selector: { matchLabels: redisLabels },
        template: {
          metadata: { labels: { ...redisLabels, ...PART_OF } },
          spec: {
            securityContext: podSecurity(REDIS_UID),
            containers: [
              {
                name: 'redis',
                image: REDIS_IMAGE,
                command: ['redis-server'],
                // BullMQ needs noeviction; AOF makes accepted events survive a restart.
                args: [
                  '--appendonly',
                  'yes',
                  '--appendfsync',
                  'everysec',
                  '--dir',
                  '/data',
                  // noeviction acts only with a maxmemory: OOM errors to BullMQ, below the
                  // container's limit (with room for the AOF rewrite's fork).
                  '--maxmemory',
                  '384mb',
                  '--maxmemory-policy',
                  'noeviction',
                ],
                ports: [{ name: 'redis', containerPort: REDIS_PORT }],
                readinessProbe: {
                  exec: { command: ['redis-cli', 'ping'] },
                  periodSeconds: 5,
                  timeoutSeconds: 2,
                },
                livenessProbe: { tcpSocket: { port: 'redis' }, periodSeconds: 10 },
                resources: {
                  requests: { cpu: '50m', memory: '64Mi' },
                  limits: { memory: '512Mi' },
                },
                securityContext: restricted,
                volumeMounts: [{ name: 'data', mountPath: '/data' }],
              },
            ],
          },
        },
        volumeClaimTemplates: [
          {
            metadata: { name: 'data', labels: redisLabels },
            spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
          },
        ],
      },
    },
  ];
}

/**
 * Webhooks open to all; the ops port only from cvm's namespace and namespaces labelled
 * `cvm.dev/ops-access: "true"` (Prometheus, an ingress for the dashboard); Redis only from cvm.
 * Kubelet probes are not subject to NetworkPolicy.
 */
function networkPolicies(o: InstallOptions): Manifest[] {
  const policy = (name: string, podSelector: object, ingress: object[]): Manifest => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: meta(name, o.namespace, {}),
    spec: { podSelector: { matchLabels: podSelector }, policyTypes: ['Ingress'], ingress },
  });
  const cvm = policy('cvm', { [NAME_LABEL]: 'cvm' }, [
    { ports: [{ protocol: 'TCP', port: WEBHOOK_PORT }] },
    {
      from: [
        { podSelector: {} },
        { namespaceSelector: { matchLabels: { 'cvm.dev/ops-access': 'true' } } },
      ],
      ports: [{ protocol: 'TCP', port: OPS_PORT }],
    },
  ]);
  if (o.redis === 'external') return [cvm];
  return [
    cvm,
    policy('cvm-redis', redisLabels, [
      {
        from: [{ podSelector: { matchLabels: { [NAME_LABEL]: 'cvm' } } }],
        ports: [{ protocol: 'TCP', port: REDIS_PORT }],
      },
    ]),
  ];
}

/** cvm's own Deployments and their PodDisruptionBudgets. */
export function cvmWorkloadObjects(o: InstallOptions): Manifest[] {
  const roles = cvmRoles(o);
  return [
    ...roles.map(([role, replicas]) => cvmDeployment(o, role, replicas)),
    ...roles.map(([role]) => pdb(o, role)),
  ];
}

/**
 * Every object of an install, in apply order: Namespace, CRD, RBAC, Services, Redis, cvm's
 * Deployments, PodDisruptionBudgets, NetworkPolicies. The base `infra/kubernetes` is the
 * defaults; the overlays are `topology: 'split'` and `redis: 'external'`.
 */
export function installObjects(o: InstallOptions): Manifest[] {
  return [
    namespaceObject(o),
    containerVersionCrd() as Manifest,
    ...rbacObjects(o),
    ...services(o),
    ...(o.redis === 'statefulset' ? redisObjects(o) : []),
    ...cvmWorkloadObjects(o),
    ...networkPolicies(o),
  ];
}

/**
 * A ContainerVersion for cvm itself (self-update): the `cvm` container of the `cvm` Deployment
 * follows `<image repo>:<tag>`. Not applied by default.
 */
export function selfUpdateContainerVersion(o: InstallOptions, tag = 'stable'): Manifest {
  const { registry, repository } = parseImageRef(o.image);
  const repo = familiarImageRef({ registry, repository });
  return {
    apiVersion: 'cvm.dev/v1',
    kind: 'ContainerVersion',
    metadata: meta('cvm', o.namespace, {}),
    spec: {
      imageRepo: repo,
      tag,
      selector: { [NAME_LABEL]: 'cvm' },
      container: 'cvm',
      pollIntervalSeconds: 300,
      rollback: { enabled: true, progressDeadlineSeconds: 300 },
    },
  };
}

/** Objects as one multi-document YAML stream. */
export function manifestsYaml(objects: readonly object[]): string {
  return objects.map((o) => stringify(o, { lineWidth: 0 })).join('---\n');
}
