import type { MemoryStore } from './store.js';

const systemNamespaces = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

function node(name: string): Parameters<MemoryStore['create']>[1] {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels: {
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
      },
    },
    spec: {},
    status: {
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          reason: 'KubeletReady',
          message: 'kubelet is posting ready status',
        },
      ],
      addresses: [{ type: 'Hostname', address: name }],
      nodeInfo: {
        kubeletVersion: 'v1.32.0-cvm-emulator',
        operatingSystem: 'linux',
        architecture: 'amd64',
      },
    },
  };
}

/**
 * Creates what a fresh cluster has: the system namespaces, the nodes, and a `default`
 * ServiceAccount in every namespace (as the service-account controller does). Returns the
 * unsubscribe function of the ServiceAccount follower.
 */
export function seedCluster(store: MemoryStore, nodes: string[]): () => void {
  const unsubscribe = store.subscribe(
    (event) => {
      if (event.resource !== 'namespaces' || event.type !== 'ADDED') return;
      const namespace = event.object.metadata.name ?? '';
      if (store.get('serviceaccounts', namespace, 'default')) return;
      store.create('serviceaccounts', {
        apiVersion: 'v1',
        kind: 'ServiceAccount',
        metadata: { name: 'default', namespace },
      });
    },
    { shared: true },
  );
  for (const name of systemNamespaces) {
    store.create('namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name, labels: { 'kubernetes.io/metadata.name': name } },
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' },
    });
  }
  for (const name of nodes) store.create('nodes', node(name));
  return unsubscribe;
}
