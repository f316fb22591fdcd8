import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { kubectl } from '../kube-emulator/controllers/kubectl.js';
import { startKubeEmulator, type KubeEmulator } from '../kube-emulator/index.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BASE = `${ROOT}infra/kubernetes`;
const OVERLAYS = [`${BASE}/overlays/split`, `${BASE}/overlays/external-redis`];
/** Everything stored in cvm-system, as `resource/name`. */
const stored = () =>
  ['deployments.apps', 'statefulsets.apps', 'services', 'poddisruptionbudgets.policy'].flatMap(
    (r) =>
      emulator.store.list(r, { namespace: 'cvm-system' }).map((o) => `${r}/${o.metadata.name}`),
  );

let emulator: KubeEmulator;
const k = (args: string[]) => kubectl(emulator.kubeconfigPath, args, { timeoutMs: 60_000 });

/** `kind/name` of every object kustomize renders for `dir`. */
async function rendered(dir: string): Promise<string[]> {
  const { stdout } = await promisify(execFile)('kubectl', ['kustomize', dir], {
    maxBuffer: 16 * 1024 * 1024,
  });
  return parseAllDocuments(stdout).map((d) => {
    const o = d.toJS() as { kind: string; metadata: { name: string } };
    return `${o.kind.toLowerCase()}/${o.metadata.name}`;
  });
}

beforeAll(async () => {
  emulator = await startKubeEmulator({ port: 0, timeScale: 10 });
  // README step 1: the namespace and the Secret come first.
  expect((await k(['create', 'namespace', 'cvm-system', '--save-config'])).code).toBe(0);
  const secret = await k([
    'create',
    'secret',
    'generic',
    'cvm',
    '-n',
    'cvm-system',
    '--from-literal=CVM_OPS_TOKEN=install-test-ops-token-0123',
    '--from-literal=CVM_GENERIC_SECRETS=install-test-generic-0123',
  ]);
  expect(secret.stderr).toBe('');
}, 60_000);
afterAll(async () => {
  await emulator?.stop();
});

describe('kubectl apply -k infra/kubernetes (and each overlay) against the emulator', () => {
  it.each([BASE, ...OVERLAYS])(
    '--dry-run=server accepts %s and stores nothing',
    async (dir) => {
      const before = stored();
      const result = await k(['apply', '-k', dir, '--dry-run=server']);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      const lines = result.stdout.trim().split('\n');
      expect(lines).toHaveLength((await rendered(dir)).length);
      for (const line of lines) expect(line).toMatch(/ \(server dry run\)$/);
      expect(stored()).toEqual(before);
    },
    60_000,
  );

  it('the base applies for real: every object is stored and cvm and Redis roll out', async () => {
    expect(stored()).toEqual([]); // the dry runs left nothing behind
    const result = await k(['apply', '-k', BASE]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const names = await rendered(BASE);
    const got = await k(['get', '-n', 'cvm-system', ...names, '-o', 'name']);
    expect(got.stderr).toBe('');
    expect(got.stdout.trim().split('\n')).toHaveLength(names.length);
    for (const workload of ['deployment/cvm', 'statefulset/cvm-redis']) {
      const status = await k(['rollout', 'status', workload, '-n', 'cvm-system', '--timeout=30s']);
      expect(status.code, status.stderr).toBe(0);
    }
    const sts = emulator.store.get('statefulsets.apps', 'cvm-system', 'cvm-redis');
    expect(sts?.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe('1Gi');
  }, 90_000);

  it.each(OVERLAYS)(
    '%s applies for real over the base',
    async (dir) => {
      const result = await k(['apply', '-k', dir]);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      const names = await rendered(dir);
      const got = await k(['get', '-n', 'cvm-system', ...names, '-o', 'name']);
      expect(got.stderr).toBe('');
      expect(got.stdout.trim().split('\n')).toHaveLength(names.length);
    },
    60_000,
  );

  it('the split roles roll out with two replicas each', async () => {
    for (const role of ['receiver', 'worker', 'reconciler']) {
      const status = await k([
        'rollout',
        'status',
        `deployment/cvm-${role}`,
        '-n',
        'cvm-system',
        '--timeout=30s',
      ]);
      expect(status.code, status.stderr).toBe(0);
      const d = emulator.store.get('deployments.apps', 'cvm-system', `cvm-${role}`);
      expect(d?.status?.readyReplicas).toBe(2);
    }
  }, 90_000);
});
