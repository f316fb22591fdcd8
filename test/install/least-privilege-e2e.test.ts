import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CLUSTER_RULES,
  LEASE_NAME,
  NAMESPACE_RULES,
  type RbacRule,
} from '../../src/install/rbac-rules.js';
import type { AccessRecord } from '../kube-emulator/index.js';
import { installCvmRbac, policyRules } from '../support/cvm-rbac.js';
import {
  containerVersion,
  deployment,
  namespace,
  startCvmStack,
  type CvmStack,
} from '../support/cvm-stack.js';
import { waitFor } from '../support/wait-for.js';

// cvm's end-to-end flows with cvm (workers and the leader-elected reconciler) talking to the API
// server as the install's ServiceAccount, bound to exactly the rules of src/install/rbac-rules.ts.
// The emulator authorizes every request as kube-apiserver's RBAC does and records what it allowed.

const SA = { namespace: 'cvm-system', name: 'cvm' };
const ADMIN = 'least-privilege-admin-token-0123456789';
let stack: CvmStack;

beforeAll(async () => {
  stack = await startCvmStack({
    reconciler: true,
    env: {
      CVM_LEASE_NAMESPACE: SA.namespace,
      CVM_LEASE_DURATION_SECONDS: '5',
      CVM_DRIFT_CHECK_SECONDS: '1',
      CVM_ROLLOUT_RECHECK_MS: '500',
    },
    cvmKubeconfig: (emulator) => installCvmRbac(emulator, SA),
    ops: { adminToken: ADMIN },
  });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

const cvSpec = (tag: string, extra: Record<string, unknown> = {}) => ({
  imageRepo: stack.repo,
  tag,
  versionPattern: '^sha-[0-9a-f]{7}$',
  selector: { app: tag },
  container: 'api',
  pollIntervalSeconds: 0,
  ...extra,
});

const imageOf = (d: any, container = 'api') =>
  d.spec.template.spec.containers.find((c: any) => c.name === container).image as string;

async function get(kind: string, ns: string, name: string): Promise<any> {
  return JSON.parse((await stack.kubectl(['get', kind, name, '-n', ns, '-o', 'json'])).stdout);
}

async function eventReasons(ns: string): Promise<string[]> {
  return JSON.parse(
    (await stack.kubectl(['get', 'events', '-n', ns, '-o', 'json'])).stdout,
  ).items.map((e: any) => e.reason as string);
}

/** Push → Rolling rollout of a Deployment, history ConfigMap and Events; then drift is reverted. */
async function pushAndDrift(): Promise<void> {
  await stack.apply([
    namespace('shop'),
    deployment('shop', 'api', 'example.com/old/api:1', { app: 'shop' }),
    containerVersion('shop', 'api', cvSpec('shop')),
  ]);
  const digest = stack.push(['sha-a000001', 'shop']);
  const cv = await stack.rolloutOf('shop', 'api', digest);
  expect(cv.status.lastRollout).toMatchObject({ result: 'Succeeded', version: 'sha-a000001' });
  const managed = `${stack.repo}:sha-a000001@${digest}`;
  expect(imageOf(await stack.deployment('shop', 'api'))).toBe(managed);
  expect((await stack.history('shop', 'api')).map((h) => [h.version, h.result])).toEqual([
    ['sha-a000001', 'Succeeded'],
  ]);
  const drift = await stack.kubectl([
    'set',
    'image',
    'deployment/api',
    'api=example.com/by-hand:2',
    '-n',
    'shop',
  ]);
  expect(drift.code).toBe(0);
  await waitFor(
    async () => imageOf(await stack.deployment('shop', 'api')) === managed,
    'the drift in shop to be reverted',
    { timeoutMs: 20_000 },
  );
  // The REST API on the ops port: a CV's Events (listed from the API server) and a request
  // (the annotation patched on the CV).
  const rest = (method: string, path: string) =>
    fetch(`${stack.opsUrl}/api/v1/containerversions/shop/api${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN}` },
      signal: AbortSignal.timeout(15_000),
    });
  await waitFor(async () => {
    const events = (await (await rest('GET', '/events')).json()) as { items?: any[] };
    return events.items?.some((e) => e.reason === 'DriftCorrected');
  }, 'the DriftCorrected Event through the REST API');
  const sync = await rest('POST', '/sync');
  expect(sync.status).toBe(202);
  await waitFor(
    async () =>
      (await stack.containerVersion('shop', 'api')).status?.lastRequest?.action === 'sync',
    'the sync request to be handled',
  );
}

/** A bad version misses its progress deadline and is rolled back (Events RolloutFailed, RolledBack). */
async function rollback(): Promise<void> {
  await stack.apply([
    namespace('bad'),
    deployment('bad', 'api', 'example.com/old/api:1', { app: 'bad', progressDeadlineSeconds: 20 }),
    containerVersion('bad', 'api', cvSpec('bad')),
  ]);
  const good = stack.push(['sha-b000001', 'bad']);
  await stack.rolloutOf('bad', 'api', good);
  const bad = stack.push(['sha-b000002'], { content: 'lp-bad' });
  stack.emulator.setNeverReady([bad]);
  stack.push(['bad'], { content: 'lp-bad' });
  const cv = await waitFor(
    async () => {
      const got = await stack.containerVersion('bad', 'api');
      return got.status?.lastRollout?.digest === bad &&
        got.status.lastRollout.result === 'RolledBack'
        ? got
        : undefined;
    },
    'the rollback in bad',
    { timeoutMs: 60_000, intervalMs: 200 },
  );
  expect(cv.status.currentDigest).toBe(good);
  expect(await eventReasons('bad')).toEqual(
    expect.arrayContaining(['RolloutFailed', 'RolledBack']),
  );
  expect((await stack.history('bad', 'api')).map((h) => h.result)).toEqual([
    'RolledBack',
    'Succeeded',
  ]);
}

/** A StatefulSet, a DaemonSet and a CronJob behind one CV, with a verify Job first. */
async function everyKindWithVerify(): Promise<void> {
  const labels = { app: 'kinds' };
  const template = {
    metadata: { labels: { app: 'kinds', part: 'x' } },
    spec: { containers: [{ name: 'api', image: 'example.com/old/api:1' }] },
  };
  const selector = { matchLabels: { app: 'kinds', part: 'x' } };
  await stack.apply([
    namespace('kinds'),
    {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'db', namespace: 'kinds', labels },
      spec: { replicas: 1, serviceName: 'db', selector, template },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'agent', namespace: 'kinds', labels },
      spec: { selector, template },
    },
    {
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name: 'report', namespace: 'kinds', labels },
      spec: {
        schedule: '0 3 * * *',
        jobTemplate: {
          spec: {
            template: {
              spec: {
                restartPolicy: 'Never',
                containers: [{ name: 'api', image: 'example.com/old/api:1' }],
              },
            },
          },
        },
      },
    },
    containerVersion(
      'kinds',
      'api',
      cvSpec('kinds', {
        verify: [{ name: 'smoke', image: 'example.com/checks/ok:1', command: ['/bin/true'] }],
      }),
    ),
  ]);
  const digest = stack.push(['sha-c000001', 'kinds']);
  const cv = await stack.rolloutOf('kinds', 'api', digest, 60_000);
  expect(cv.status.lastRollout).toMatchObject({ result: 'Succeeded' });
  expect(JSON.stringify((await get('statefulset', 'kinds', 'db')).spec.template)).toContain(digest);
  expect(JSON.stringify((await get('daemonset', 'kinds', 'agent')).spec.template)).toContain(
    digest,
  );
  expect(JSON.stringify((await get('cronjob', 'kinds', 'report')).spec.jobTemplate)).toContain(
    digest,
  );
  await waitFor(
    async () =>
      JSON.parse((await stack.kubectl(['get', 'jobs', '-n', 'kinds', '-o', 'json'])).stdout).items
        .length === 0,
    'the verify Job to be deleted',
  );
}

const COLOR = 'cvm.dev/color';
const TRACK = 'cvm.dev/track';

/** BlueGreen reads and switches a Service. */
async function blueGreen(): Promise<void> {
  await stack.apply([
    namespace('bg'),
    deployment('bg', 'web-blue', 'example.com/old/web:1', {
      app: 'bg',
      replicas: 1,
      labels: { [COLOR]: 'blue' },
    }),
    deployment('bg', 'web-green', 'example.com/old/web:0', {
      app: 'bg',
      replicas: 0,
      labels: { [COLOR]: 'green' },
    }),
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'bg' },
      spec: { selector: { app: 'bg', [COLOR]: 'blue' }, ports: [{ port: 80, targetPort: 8080 }] },
    },
  ]);
  await stack.apply([
    containerVersion(
      'bg',
      'web',
      cvSpec('bg', {
        strategy: {
          type: 'BlueGreen',
          blueGreen: { activeService: 'web', scaleDownDelaySeconds: 0 },
        },
      }),
    ),
  ]);
  const digest = stack.push(['sha-d000001', 'bg']);
  const cv = await stack.rolloutOf('bg', 'web', digest, 60_000);
  expect(cv.status.lastRollout.result).toBe('Succeeded');
  expect((await get('service', 'bg', 'web')).spec.selector[COLOR]).toBe('green');
}

/** Canary judges the canary's Pods (readiness and restarts). */
async function canary(): Promise<void> {
  await stack.apply([
    namespace('canary'),
    deployment('canary', 'web-stable', 'example.com/old/web:1', {
      app: 'canary',
      replicas: 2,
      labels: { [TRACK]: 'stable' },
    }),
    deployment('canary', 'web-canary', 'example.com/old/web:1', {
      app: 'canary',
      replicas: 0,
      labels: { [TRACK]: 'canary' },
    }),
  ]);
  await stack.apply([
    containerVersion(
      'canary',
      'web',
      cvSpec('canary', { strategy: { type: 'Canary', canary: { judgeSeconds: 1 } } }),
    ),
  ]);
  const digest = stack.push(['sha-e000001', 'canary']);
  const cv = await stack.rolloutOf('canary', 'web', digest, 60_000);
  expect(cv.status.lastRollout.result).toBe('Succeeded');
}

const usage = () => stack.emulator.rbac.usage(SA.namespace, SA.name);

/** Each (verb, group, resource[, names]) a rule grants, one by one. */
function grants(rules: readonly RbacRule[]) {
  return rules.flatMap((rule) =>
    rule.apiGroups.flatMap((apiGroup) =>
      rule.resources.flatMap((resource) =>
        rule.verbs.map((verb) => ({
          verb,
          apiGroup,
          resource,
          ...(rule.resourceNames ? { resourceNames: rule.resourceNames } : {}),
        })),
      ),
    ),
  );
}

const usedBy = (
  g: ReturnType<typeof grants>[number],
  records: AccessRecord[],
): AccessRecord | undefined =>
  records.find(
    (u) =>
      u.verb === g.verb &&
      u.apiGroup === g.apiGroup &&
      u.resource === g.resource &&
      (g.resourceNames === undefined || g.resourceNames.includes(u.name ?? '')),
  );

describe('cvm as its ServiceAccount, bound to src/install/rbac-rules.ts', () => {
  it('push, rollback, verify Jobs, drift, every workload kind, BlueGreen, Canary, the REST API and the Lease all work', async () => {
    await Promise.all([pushAndDrift(), rollback(), everyKindWithVerify(), blueGreen(), canary()]);
    // Leader election ran in cvm's namespace with the Role there.
    const lease = stack.emulator.store.get('leases.coordination.k8s.io', SA.namespace, LEASE_NAME);
    expect(lease?.spec?.holderIdentity).toEqual(expect.any(String));
    expect(usage().length).toBeGreaterThan(0);
  }, 120_000);

  it('no request of cvm was forbidden', () => {
    const forbidden = stack.emulator.requests.filter((r) => r.status === 403 || r.status === 401);
    expect(forbidden.map((r) => `${r.method} ${r.path}`)).toEqual([]);
  });

  it('every verb the ClusterRole and the Role grant was used by some flow', () => {
    const records = usage();
    const clusterUnused = grants(CLUSTER_RULES).filter((g) => !usedBy(g, records));
    const namespaceUnused = grants(NAMESPACE_RULES).filter(
      (g) =>
        !usedBy(
          g,
          records.filter((u) => u.namespace === SA.namespace),
        ),
    );
    expect({ clusterUnused, namespaceUnused }).toEqual({ clusterUnused: [], namespaceUnused: [] });
  });

  it('without any one of those grants, a request the flows made would be forbidden', async () => {
    const { authorize, serviceAccountUser } = await import('../kube-emulator/rbac/authorizer.js');
    const user = serviceAccountUser(SA.namespace, SA.name);
    const records = usage();
    const denied = (cluster: readonly RbacRule[], ns: readonly RbacRule[]) =>
      records.filter(
        (u) =>
          !authorize(
            user,
            {
              verb: u.verb,
              apiGroup: u.apiGroup,
              apiVersion: 'v1',
              resource: u.resource.split('/')[0] ?? '',
              ...(u.resource.includes('/') ? { subresource: u.resource.split('/')[1] } : {}),
              ...(u.namespace ? { namespace: u.namespace } : {}),
              ...(u.name ? { name: u.name } : {}),
            },
            {
              roles: [
                { metadata: { name: 'cvm', namespace: SA.namespace }, rules: policyRules(ns) },
              ],
              clusterRoles: [{ metadata: { name: 'cvm' }, rules: policyRules(cluster) }],
              roleBindings: [
                {
                  metadata: { name: 'cvm', namespace: SA.namespace },
                  roleRef: { kind: 'Role', name: 'cvm' },
                  subjects: [{ kind: 'ServiceAccount', ...SA }],
                },
              ],
              clusterRoleBindings: [
                {
                  metadata: { name: 'cvm' },
                  roleRef: { kind: 'ClusterRole', name: 'cvm' },
                  subjects: [{ kind: 'ServiceAccount', ...SA }],
                },
              ],
            },
          ).allowed,
      );
    expect(denied(CLUSTER_RULES, NAMESPACE_RULES)).toEqual([]);
    const without = (rules: readonly RbacRule[], index: number, verb: string): RbacRule[] =>
      rules.map((r, i) => (i === index ? { ...r, verbs: r.verbs.filter((v) => v !== verb) } : r));
    const survivors: string[] = [];
    CLUSTER_RULES.forEach((rule, i) => {
      for (const verb of rule.verbs)
        if (denied(without(CLUSTER_RULES, i, verb), NAMESPACE_RULES).length === 0)
          survivors.push(`cluster ${verb} ${rule.resources.join(',')}`);
    });
    NAMESPACE_RULES.forEach((rule, i) => {
      for (const verb of rule.verbs)
        if (denied(CLUSTER_RULES, without(NAMESPACE_RULES, i, verb)).length === 0)
          survivors.push(`namespace ${verb} ${rule.resources.join(',')}`);
    });
    expect(survivors).toEqual([]);
  });

  it('a rule taken away live surfaces as a 403 on cvm’s request and in its log; the Deployment is left alone', async () => {
    const name = 'clusterroles.rbac.authorization.k8s.io';
    const role = stack.emulator.store.get(name, undefined, 'cvm')!;
    const noWorkloadPatch = CLUSTER_RULES.map((r) =>
      r.apiGroups.includes('apps') ? { ...r, verbs: r.verbs.filter((v) => v !== 'patch') } : r,
    );
    stack.emulator.store.update(name, { ...role, rules: policyRules(noWorkloadPatch) });
    try {
      const digest = stack.push(['sha-a000009', 'shop']);
      const forbidden = await waitFor(
        () =>
          stack.emulator.requests.find(
            (r) =>
              r.status === 403 &&
              r.method === 'PATCH' &&
              r.path === '/apis/apps/v1/namespaces/shop/deployments/api',
          ),
        'the forbidden PATCH of shop/api',
        { timeoutMs: 20_000 },
      );
      expect(forbidden).toBeDefined();
      expect(imageOf(await stack.deployment('shop', 'api'))).not.toContain(digest);
      await waitFor(
        () =>
          stack.logs.some((line) =>
            /deployments\.apps \\*"api\\*" is forbidden: User \\*"system:serviceaccount:cvm-system:cvm\\*" cannot patch resource \\*"deployments\\*" in API group \\*"apps\\*" in the namespace \\*"shop\\*"/.test(
              JSON.stringify(line),
            ),
          ),
        "kube-apiserver's message in cvm's log",
      );
    } finally {
      stack.emulator.store.update(name, {
        ...stack.emulator.store.get(name, undefined, 'cvm')!,
        rules: policyRules(CLUSTER_RULES),
      });
    }
  }, 30_000);
});
