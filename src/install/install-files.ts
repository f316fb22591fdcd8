import { isDeepStrictEqual } from 'node:util';
import { stringify } from 'yaml';
import { containerVersionCrdYaml } from '../api/crd.js';
import {
  installObjects,
  manifestsYaml,
  selfUpdateContainerVersion,
  type InstallOptions,
  type Manifest,
} from './install-manifests.js';

const HEADER = '# Generated from src/install by `npm run manifests`; do not edit.\n';

/** `kind/namespace/name`: what kustomize and the API server tell objects apart by. */
export const manifestKey = (o: Manifest): string =>
  `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;

/** Which base file an object is written to. */
function baseFileOf(o: Manifest): string {
  if (o.kind === 'Namespace') return 'namespace.yaml';
  if (o.kind === 'CustomResourceDefinition') return 'crd.yaml';
  if (o.apiVersion.startsWith('rbac.') || o.kind === 'ServiceAccount') return 'rbac.yaml';
  if (o.kind === 'NetworkPolicy') return 'network-policies.yaml';
  if (o.metadata.name === 'cvm-redis') return 'redis.yaml';
  return 'cvm.yaml';
}

const kustomization = (body: object, comment = ''): string =>
  `${HEADER}${comment}${stringify(
    { apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', ...body },
    { lineWidth: 0 },
  )}`;

const pointer = (segment: string | number) =>
  String(segment).replaceAll('~', '~0').replaceAll('/', '~1');
const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * JSON-patch ops turning `from` into `to`, as deep as the two share a shape (objects, and arrays
 * of the same length), so that an overlay names only what it changes.
 */
function diffOps(from: unknown, to: unknown, path = ''): object[] {
  if (isDeepStrictEqual(from, to)) return [];
  const sameArrays = Array.isArray(from) && Array.isArray(to) && from.length === to.length;
  if (!(isRecord(from) && isRecord(to)) && !sameArrays) return [{ op: 'replace', path, value: to }];
  const a = from as Record<string, unknown>;
  const b = to as Record<string, unknown>;
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].flatMap((key) => {
    const at = `${path}/${pointer(key)}`;
    if (!(key in b)) return [{ op: 'remove', path: at }];
    if (!(key in a)) return [{ op: 'add', path: at, value: b[key] }];
    return diffOps(a[key], b[key], at);
  });
}

/**
 * An overlay of the base that yields exactly `installObjects(variant)`: objects the variant lacks
 * are deleted (`$patch: delete`), changed ones get JSON-patch replacements of the fields that
 * differ, new ones are listed in its `resources.yaml`.
 */
function overlayFiles(
  base: Manifest[],
  variant: Manifest[],
  about: string,
): Record<string, string> {
  const inBase = new Map(base.map((o) => [manifestKey(o), o]));
  const inVariant = new Map(variant.map((o) => [manifestKey(o), o]));
  const deletions = base
    .filter((o) => !inVariant.has(manifestKey(o)))
    .map((o) => ({
      patch: stringify(
        {
          $patch: 'delete',
          apiVersion: o.apiVersion,
          kind: o.kind,
          metadata: { name: o.metadata.name, namespace: o.metadata.namespace },
        },
        { lineWidth: 0 },
      ),
    }));
  const changes = variant.flatMap((o) => {
    const before = inBase.get(manifestKey(o));
    if (!before || isDeepStrictEqual(before, o)) return [];
    return [
      {
        target: { kind: o.kind, name: o.metadata.name, namespace: o.metadata.namespace },
        patch: stringify(diffOps(before, o), { lineWidth: 0 }),
      },
    ];
  });
  const added = variant.filter((o) => !inBase.has(manifestKey(o)));
  return {
    'kustomization.yaml': kustomization(
      {
        resources: ['../../base', ...(added.length > 0 ? ['resources.yaml'] : [])],
        patches: [...deletions, ...changes],
      },
      about,
    ),
    ...(added.length > 0 ? { 'resources.yaml': HEADER + manifestsYaml(added) } : {}),
  };
}

/**
 * Every generated file of `infra/kubernetes` (paths relative to it) for the given defaults: the
 * root kustomization, the base, the overlays `split` and `external-redis`, the self-update CV.
 * `npm run manifests` writes them; a test fails when the committed ones differ.
 */
export function installFiles(defaults: InstallOptions): Record<string, string> {
  const base = installObjects(defaults);
  const byFile = new Map<string, Manifest[]>();
  for (const o of base) byFile.set(baseFileOf(o), [...(byFile.get(baseFileOf(o)) ?? []), o]);
  const files: Record<string, string> = {
    'crd.yaml': containerVersionCrdYaml(),
    'kustomization.yaml': kustomization(
      { resources: ['base'] },
      '# cvm in one Deployment (`cvm serve`) with Redis: `kubectl apply -k infra/kubernetes`.\n' +
        '# Overlays: overlays/split (receiver, worker, reconciler ×2), overlays/external-redis.\n' +
        '# cvm updates itself: add `- self-update.yaml` to resources (see the README).\n',
    ),
    'self-update.yaml': HEADER + manifestsYaml([selfUpdateContainerVersion(defaults)]),
    'base/kustomization.yaml': kustomization({ resources: [...byFile.keys()] }),
  };
  for (const [file, objects] of byFile)
    files[`base/${file}`] =
      file === 'crd.yaml' ? containerVersionCrdYaml() : HEADER + manifestsYaml(objects);
  const overlays = {
    split: {
      variant: { ...defaults, topology: 'split' as const },
      about: '# cvm receiver, worker and reconciler as Deployments of two replicas each.\n',
    },
    'external-redis': {
      variant: { ...defaults, redis: 'external' as const },
      about:
        '# Redis outside the cluster (ElastiCache, Memorystore): CVM_REDIS_URL from the Secret cvm-redis, key url.\n',
    },
  };
  for (const [name, { variant, about }] of Object.entries(overlays))
    for (const [file, text] of Object.entries(overlayFiles(base, installObjects(variant), about)))
      files[`overlays/${name}/${file}`] = text;
  return files;
}
