import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { ContainerVersionSpecSchema } from '../../src/api/container-version.js';
import { runCli } from '../../src/cli/program.js';
import { CONFIG_KEYS, loadConfig } from '../../src/config/config.js';
import { installFiles, manifestKey } from '../../src/install/install-files.js';
import {
  defaultInstallOptions,
  installObjects,
  selfUpdateContainerVersion,
  type Manifest,
} from '../../src/install/install-manifests.js';
import { CLUSTER_RULES, NAMESPACE_RULES } from '../../src/install/rbac-rules.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const { version } = JSON.parse(readFileSync(`${ROOT}/package.json`, 'utf8')) as {
  version: string;
};
const defaults = defaultInstallOptions(version);

const docs = (text: string): Manifest[] =>
  parseAllDocuments(text)
    .map((d) => d.toJS() as Manifest | null)
    .filter((d): d is Manifest => d !== null);
const byKey = (objects: Manifest[]) =>
  Object.fromEntries(objects.map((o) => [manifestKey(o), o] as const));

async function cvm(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(args, {
    out: (t) => (out += t),
    err: (t) => (err += t),
    env: {},
  });
  return { code, out, err };
}

async function kustomize(dir: string): Promise<Manifest[]> {
  const { stdout } = await promisify(execFile)('kubectl', ['kustomize', `${ROOT}/${dir}`], {
    timeout: 30_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  return docs(stdout);
}

describe('the install manifests (infra/kubernetes, cvm manifests all)', () => {
  it('every generated file under infra/kubernetes is what src/install writes (run `npm run manifests`)', () => {
    const files = installFiles(defaults);
    expect(Object.keys(files)).toContain('base/kustomization.yaml');
    for (const [path, text] of Object.entries(files))
      expect(readFileSync(`${ROOT}/infra/kubernetes/${path}`, 'utf8'), path).toBe(text);
  });

  it.each([
    ['infra/kubernetes', []],
    ['infra/kubernetes/overlays/split', ['--split']],
    ['infra/kubernetes/overlays/external-redis', ['--external-redis']],
  ])('kubectl kustomize %s renders exactly `cvm manifests all %s`', async (dir, flags) => {
    const [rendered, printed] = await Promise.all([
      kustomize(dir),
      cvm(['manifests', 'all', ...flags]),
    ]);
    expect(printed.code).toBe(0);
    const generated = docs(printed.out);
    expect(generated.length).toBeGreaterThan(10);
    expect(byKey(rendered)).toEqual(byKey(generated));
  });

  it('the overlays differ from the base where they say: split roles, no Redis StatefulSet', () => {
    const kinds = (objects: Manifest[]) => objects.map((o) => `${o.kind}/${o.metadata.name}`);
    const split = installObjects({ ...defaults, topology: 'split' });
    expect(kinds(split)).toEqual(
      expect.arrayContaining([
        'Deployment/cvm-receiver',
        'Deployment/cvm-worker',
        'Deployment/cvm-reconciler',
        'PodDisruptionBudget/cvm-reconciler',
      ]),
    );
    expect(kinds(split)).not.toContain('Deployment/cvm');
    for (const d of split.filter((o) => o.kind === 'Deployment')) {
      const spec = d.spec as any;
      expect(spec.replicas, d.metadata.name).toBe(2);
      expect(spec.template.spec.containers[0].args).toEqual([d.metadata.name.slice('cvm-'.length)]);
    }
    const webhooks = split.find((o) => o.metadata.name === 'cvm-webhooks') as any;
    expect(webhooks.spec.selector['app.kubernetes.io/component']).toBe('receiver');

    const external = installObjects({ ...defaults, redis: 'external' });
    expect(kinds(external).filter((k) => k.includes('redis'))).toEqual([]);
    const env = (external.find((o) => o.kind === 'Deployment') as any).spec.template.spec
      .containers[0].env;
    expect(env).toContainEqual({
      name: 'CVM_REDIS_URL',
      valueFrom: { secretKeyRef: { name: 'cvm-redis', key: 'url' } },
    });
  });

  it('every container runs non-root, read-only, without capabilities, under RuntimeDefault seccomp, with limits', () => {
    const all = [
      ...installObjects(defaults),
      ...installObjects({ ...defaults, topology: 'split' }),
    ].filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet');
    expect(all.length).toBe(6); // cvm and Redis; the split roles and Redis again
    for (const workload of all) {
      const pod = (workload.spec as any).template.spec;
      expect(pod.securityContext, workload.metadata.name).toMatchObject({
        runAsNonRoot: true,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
      for (const c of pod.containers) {
        expect(c.securityContext).toEqual({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
        });
        expect(c.resources.requests).toHaveProperty('memory');
        expect(c.resources.limits).toHaveProperty('memory');
        expect(c.readinessProbe).toBeDefined();
        expect(c.livenessProbe).toBeDefined();
      }
    }
  });

  it("cvm's pods get no Service links: the kubelet's CVM_OPS_PORT=tcp://… and CVM_*_SERVICE_HOST would stop cvm at start", () => {
    const objects = installObjects(defaults) as any[];
    // What the kubelet puts in a pod's environment for each Service of its namespace.
    const links: Record<string, string> = {};
    for (const svc of objects.filter((o) => o.kind === 'Service')) {
      const name = svc.metadata.name.toUpperCase().replaceAll('-', '_');
      const port = svc.spec.ports[0].port;
      links[`${name}_SERVICE_HOST`] = '10.0.0.1';
      links[`${name}_SERVICE_PORT`] = String(port);
      links[`${name}_PORT`] = `tcp://10.0.0.1:${port}`;
    }
    expect(Object.keys(links)).toContain('CVM_OPS_PORT');
    expect(() => loadConfig(links)).toThrow(/CVM_OPS_PORT/);
    for (const d of objects.filter((o) => o.kind === 'Deployment'))
      expect(d.spec.template.spec.enableServiceLinks, d.metadata.name).toBe(false);
  });

  it("cvm's probes ask the ops port for /healthz (liveness) and /readyz (readiness); the Secret supplies the rest", () => {
    const deployment = installObjects(defaults).find((o) => o.kind === 'Deployment') as any;
    const [container] = deployment.spec.template.spec.containers;
    expect(container.ports).toEqual([
      { name: 'webhooks', containerPort: Number(CONFIG_KEYS.webhookPort.default) },
      { name: 'ops', containerPort: Number(CONFIG_KEYS.opsPort.default) },
    ]);
    expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'ops' });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'ops' });
    expect(container.envFrom).toEqual([{ secretRef: { name: 'cvm' } }]);
    expect(deployment.spec.template.spec.serviceAccountName).toBe('cvm');
    // Files (registry credentials, cosign key) from an optional Secret: absent, the pod still starts.
    expect(deployment.spec.template.spec.volumes).toContainEqual({
      name: 'files',
      secret: { secretName: 'cvm-files', optional: true },
    });
    expect(container.volumeMounts).toContainEqual({
      name: 'files',
      mountPath: '/etc/cvm/files',
      readOnly: true,
    });
    const envNames = Object.values(CONFIG_KEYS).map((k) => k.env as string);
    for (const e of container.env) expect(envNames).toContain(e.name);
  });

  it('the ClusterRole and the Role carry the rules of rbac-rules.ts, bound to the ServiceAccount', () => {
    const objects = byKey(installObjects({ ...defaults, namespace: 'ops' }));
    expect(objects['ClusterRole//cvm']?.rules).toEqual(CLUSTER_RULES);
    expect(objects['Role/ops/cvm']?.rules).toEqual(NAMESPACE_RULES);
    for (const binding of ['ClusterRoleBinding//cvm', 'RoleBinding/ops/cvm'])
      expect(objects[binding]?.subjects).toEqual([
        { kind: 'ServiceAccount', name: 'cvm', namespace: 'ops' },
      ]);
    expect(objects['ServiceAccount/ops/cvm']).toBeDefined();
  });

  it('--namespace and --image move every namespaced object and set every cvm container image', async () => {
    const { code, out } = await cvm([
      'manifests',
      'all',
      '--namespace',
      'delivery',
      '--image',
      'registry.example.com/cvm:2.0.0',
      '--split',
    ]);
    expect(code).toBe(0);
    const objects = docs(out);
    const clusterScoped = [
      'Namespace',
      'CustomResourceDefinition',
      'ClusterRole',
      'ClusterRoleBinding',
    ];
    for (const o of objects)
      if (!clusterScoped.includes(o.kind))
        expect(o.metadata.namespace, manifestKey(o)).toBe('delivery');
    const images = objects
      .filter((o) => o.kind === 'Deployment')
      .map((o) => (o.spec as any).template.spec.containers[0].image);
    expect(images).toEqual(Array(3).fill('registry.example.com/cvm:2.0.0'));
    expect(out).toContain('redis://cvm-redis.delivery.svc:6379');
  });

  it.each([
    [['--namespace', 'Cvm_System'], '--namespace "Cvm_System" must be a namespace name'],
    [['--image', 'Not An Image'], '--image: invalid image reference "Not An Image"'],
  ])('cvm manifests all %j exits 2 naming the flag', async (flags, message) => {
    const { code, out, err } = await cvm(['manifests', 'all', ...flags]);
    expect(code).toBe(2);
    expect(out).toBe('');
    expect(err).toContain(message);
  });

  it('the self-update ContainerVersion is a valid CV that selects the cvm Deployments and their container', () => {
    const cv = docs(readFileSync(`${ROOT}/infra/kubernetes/self-update.yaml`, 'utf8'));
    expect(cv).toEqual([selfUpdateContainerVersion(defaults)]);
    const spec = ContainerVersionSpecSchema.parse(cv[0]!.spec);
    expect(spec.imageRepo).toBe('ghcr.io/cvm-dev/cvm');
    for (const d of installObjects({ ...defaults, topology: 'split' }).filter(
      (o) => o.kind === 'Deployment',
    )) {
      const template = (d.spec as any).template;
      expect(template.metadata.labels).toMatchObject(spec.selector);
      expect(template.spec.containers.map((c: { name: string }) => c.name)).toContain(
        spec.container,
      );
    }
    expect(readFileSync(`${ROOT}/infra/kubernetes/kustomization.yaml`, 'utf8')).toMatch(
      /^# .*- self-update\.yaml/m,
    );
  });
});
