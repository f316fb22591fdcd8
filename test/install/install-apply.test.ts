import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
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

/** The commands of the README's install step 1, as written there. */
function readmeStepOne(): string[] {
  const readme = readFileSync(`${ROOT}README.md`, 'utf8');
  const step = readme.slice(readme.indexOf('**1. Install cvm.**'));
  const block = /```sh\n([\s\S]*?)```/.exec(step)?.[1] ?? '';
  return block.split('\n').filter((line) => line.startsWith('kubectl '));
}

/** Runs README lines with bash in the repository, kubectl pointed at the emulator. */
async function runReadme(lines: string[]): Promise<{ stdout: string; stderr: string }> {
  return promisify(execFile)('bash', ['-euo', 'pipefail', '-c', lines.join('\n')], {
    cwd: ROOT,
    env: { ...process.env, KUBECONFIG: emulator.kubeconfigPath },
    timeout: 90_000,
  });
}

const stepOne = readmeStepOne();
const [createLines, applyLines] = [
  stepOne.filter((l) => l.startsWith('kubectl create ')),
  stepOne.filter((l) => !l.startsWith('kubectl create ')),
];

beforeAll(async () => {
  emulator = await startKubeEmulator({ port: 0, timeScale: 10 });
  // README step 1 as written: the namespace and the Secret come first.
  expect(createLines).toHaveLength(2);
  const created = await runReadme(createLines);
  expect(created.stderr).toBe('');
  const secret = emulator.store.get('secrets', 'cvm-system', 'cvm');
  expect(Object.keys(secret?.data ?? {})).toContain('CVM_OPS_TOKEN');
}, 60_000);
afterAll(async () => {
  await emulator?.stop();
});

describe('kubectl apply -k infra/kubernetes (and each overlay) against the emulator', () => {
  it.each([BASE, ...OVERLAYS].map((d) => [d.slice(ROOT.length), d]))(
    '--dry-run=server accepts %s and stores nothing',
    async (_, dir) => {
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

  it('the rest of README step 1 applies the base for real: every object is stored, cvm and Redis roll out', async () => {
    expect(stored()).toEqual([]); // the dry runs left nothing behind
    expect(applyLines.join('\n')).toContain('kubectl apply -k infra/kubernetes');
    const { stderr } = await runReadme(applyLines);
    expect(stderr).toBe('');
    const names = await rendered(BASE);
    const got = await k(['get', '-n', 'cvm-system', ...names, '-o', 'name']);
    expect(got.stderr).toBe('');
    expect(got.stdout.trim().split('\n')).toHaveLength(names.length);
    const cvm = emulator.store.get('deployments.apps', 'cvm-system', 'cvm');
    expect(cvm?.status?.readyReplicas).toBe(1);
    const sts = emulator.store.get('statefulsets.apps', 'cvm-system', 'cvm-redis');
    expect(sts?.status?.readyReplicas).toBe(1);
    expect(sts?.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe('1Gi');
  }, 90_000);

  it.each(OVERLAYS.map((d) => [d.slice(ROOT.length), d]))(
    '%s applies for real over the base',
    async (_, dir) => {
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
