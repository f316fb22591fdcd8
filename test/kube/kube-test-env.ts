import { fileURLToPath } from 'node:url';
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { CV_GROUP, CV_PLURAL, CV_VERSION } from '../../src/api/container-version.js';
import { loadKubeConfig } from '../../src/kube/kube-config.js';
import {
  startKubeEmulator,
  type KubeEmulatorOptions,
  type KubeEmulator,
} from '../kube-emulator/index.js';
import { kubectl } from '../kube-emulator/controllers/kubectl.js';
import { waitFor } from '../support/wait-for.js';

const crdPath = fileURLToPath(new URL('../../infra/kubernetes/crd.yaml', import.meta.url));

export interface KubeTestEnv {
  emulator: KubeEmulator;
  kubeConfig: KubeConfig;
  core: CoreV1Api;
  custom: CustomObjectsApi;
  /** Creates a namespace and returns its name. */
  namespace(name: string): Promise<string>;
  /** Creates a ContainerVersion; `spec` is merged over a valid minimal spec. */
  createCv(
    namespace: string,
    name: string,
    spec?: Record<string, unknown>,
  ): Promise<{ metadata: { uid: string; resourceVersion: string; generation: number } }>;
  stop(): Promise<void>;
}

/** An emulator with the project's CRD (`infra/kubernetes/crd.yaml`) applied and established. */
export async function startKubeTestEnv(options: KubeEmulatorOptions = {}): Promise<KubeTestEnv> {
  const emulator = await startKubeEmulator({ port: 0, ...options });
  const kubeConfig = loadKubeConfig(emulator.kubeconfigPath);
  // kubectl, not client-node: client-node's serializer drops `default` and
  // `x-kubernetes-*` keys of a plain-object JSONSchemaProps (it expects `_default`, …).
  const applied = await kubectl(emulator.kubeconfigPath, ['apply', '-f', crdPath]);
  if (applied.code !== 0) throw new Error(`kubectl apply of the CRD failed: ${applied.stderr}`);
  const custom = kubeConfig.makeApiClient(CustomObjectsApi);
  await waitFor(
    () =>
      custom
        .listClusterCustomObject({ group: CV_GROUP, version: CV_VERSION, plural: CV_PLURAL })
        .then(
          () => true,
          () => false,
        ),
    'the ContainerVersion CRD to be served',
  );
  const core = kubeConfig.makeApiClient(CoreV1Api);
  return {
    emulator,
    kubeConfig,
    core,
    custom,
    async namespace(name) {
      await core.createNamespace({ body: { metadata: { name } } });
      return name;
    },
    async createCv(namespace, name, spec = {}) {
      return (await custom.createNamespacedCustomObject({
        group: CV_GROUP,
        version: CV_VERSION,
        plural: CV_PLURAL,
        namespace,
        body: {
          apiVersion: `${CV_GROUP}/${CV_VERSION}`,
          kind: 'ContainerVersion',
          metadata: { name, namespace },
          spec: {
            imageRepo: 'ghcr.io/acme/api',
            tag: 'prod',
            selector: { app: name },
            container: 'app',
            ...spec,
          },
        },
      })) as { metadata: { uid: string; resourceVersion: string; generation: number } };
    },
    stop: () => emulator.stop(),
  };
}
