import { writeFileSync } from 'node:fs';
import { stringify } from 'yaml';

/**
 * The token the kubeconfig carries. Any bearer token other than a minted ServiceAccount token
 * (see `rbac/rbac.ts`) is the cluster admin.
 */
export const EMULATOR_TOKEN = 'kube-emulator-token';

/**
 * A kubeconfig for the plain-HTTP emulator that kubectl and client-node 1.4 both accept as is:
 * client-node refuses `http://` servers unless `insecure-skip-tls-verify: true` is set.
 */
export function kubeconfigYaml(url: string, namespace = 'default', token = EMULATOR_TOKEN): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      { name: 'kube-emulator', cluster: { server: url, 'insecure-skip-tls-verify': true } },
    ],
    users: [{ name: 'kube-emulator', user: { token } }],
    contexts: [
      {
        name: 'kube-emulator',
        context: { cluster: 'kube-emulator', user: 'kube-emulator', namespace },
      },
    ],
    'current-context': 'kube-emulator',
    preferences: {},
  });
}

/** Writes {@link kubeconfigYaml}; `user.token` defaults to the admin's. */
export function writeKubeconfig(
  path: string,
  url: string,
  user: { namespace?: string; token?: string } = {},
): void {
  writeFileSync(path, kubeconfigYaml(url, user.namespace, user.token), { mode: 0o600 });
}
