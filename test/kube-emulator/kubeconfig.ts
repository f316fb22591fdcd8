import { writeFileSync } from 'node:fs';
import { stringify } from 'yaml';

/** The token the kubeconfig carries; the emulator accepts any bearer token (no authn/authz). */
export const EMULATOR_TOKEN = 'kube-emulator-token';

/**
 * A kubeconfig for the plain-HTTP emulator that kubectl and client-node 1.4 both accept as is:
 * client-node refuses `http://` servers unless `insecure-skip-tls-verify: true` is set.
 */
export function kubeconfigYaml(url: string, namespace = 'default'): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      { name: 'kube-emulator', cluster: { server: url, 'insecure-skip-tls-verify': true } },
    ],
    users: [{ name: 'kube-emulator', user: { token: EMULATOR_TOKEN } }],
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

export function writeKubeconfig(path: string, url: string): void {
  writeFileSync(path, kubeconfigYaml(url), { mode: 0o600 });
}
