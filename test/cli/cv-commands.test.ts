import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runCli } from '../../src/cli/program.js';
import { defaultInstallOptions, rbacObjects } from '../../src/install/install-manifests.js';
import { CI_ROLE, CI_RULES } from '../../src/install/rbac-rules.js';
import {
  containerVersion,
  deployment,
  namespace,
  startCvmStack,
  type CvmStack,
} from '../support/cvm-stack.js';
import { freePort } from '../support/redis-server.js';

// The ContainerVersion commands of the CLI against a real stack: the emulator, docker-registry
// with notifications, Redis and the workers. `cvm wait` runs once as the real binary (child
// process, KUBECONFIG); the other runs are in-process through runCli, which is the same code.
//
// REST: `--server` is the stack's ops port (the real /api/v1), with the admin token in CVM_TOKEN.

const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const NS = 'cli';
const TOKEN = 'cli-test-token-0123456789';

let stack: CvmStack;

async function cli(args: string[], env: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    out: (t) => (stdout += t),
    err: (t) => (stderr += t),
    env: { ...env },
  });
  return { code, stdout, stderr };
}

/** `cvm` as a child process (the real binary through tsx); `stderrSeen` resolves on a match. */
function cvmProcess(args: string[], env: Record<string, string>) {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('CVM_') && k !== 'KUBECONFIG'),
  );
  const child = spawn(process.execPath, ['--import', 'tsx', main, ...args], {
    env: { ...clean, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const killer = setTimeout(() => child.kill(), 90_000);
  let stdout = '';
  let stderr = '';
  const seen: { pattern: string; resolve: () => void }[] = [];
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
    for (const s of seen) if (stderr.includes(s.pattern)) s.resolve();
  });
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr });
    }),
  );
  return {
    done,
    stderrSeen: (pattern: string) =>
      new Promise<void>((resolve) => {
        seen.push({ pattern, resolve });
        if (stderr.includes(pattern)) resolve();
      }),
  };
}

const kube = () => ['--kubeconfig', stack.emulator.kubeconfigPath];
const annotation = async (name: string) =>
  (await stack.containerVersion(NS, name)).metadata.annotations?.['cvm.dev/request'] as string;

beforeAll(async () => {
  stack = await startCvmStack({
    env: { CVM_ROLLOUT_RECHECK_MS: '1000' },
    ops: { opsToken: 'cli-ops-token-0123456789', adminToken: TOKEN },
  });
  await stack.apply([
    namespace(NS),
    deployment(NS, 'api', 'example.com/old/api:1', { progressDeadlineSeconds: 20 }),
    containerVersion(NS, 'api', {
      imageRepo: stack.repo,
      tag: 'prod',
      versionPattern: '^sha-[0-9a-f]{7}$',
      selector: { app: 'api' },
      container: 'api',
      pollIntervalSeconds: 0,
    }),
  ]);
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

let good: string;
let bad: string;
let newer: string;

describe('cvm wait through the Kubernetes API', () => {
  it('exits 0 once the pushed version runs on every workload, with progress on stderr (the binary, KUBECONFIG)', async () => {
    const waiting = cvmProcess(
      ['wait', `${NS}/api`, '--version', 'sha-0000001', '--timeout', '60s'],
      {
        KUBECONFIG: stack.emulator.kubeconfigPath,
      },
    );
    // The wait is watching before the push.
    await waiting.stderrSeen('waiting for cvm to roll out version sha-0000001');
    good = stack.push(['sha-0000001', 'prod']);
    const result = await waiting.done;
    expect(result.stderr).toContain('waiting for cvm to roll out version sha-0000001');
    expect(result.stderr).toMatch(/Rolling rollout of sha-0000001: step 1\/1 (Patching|Waiting)/);
    expect(result).toMatchObject({ code: 0 });
    expect(result.stdout).toBe(`${NS}/api: runs sha-0000001 (${good}) on every workload\n`);
    expect((await stack.containerVersion(NS, 'api')).status.currentDigest).toBe(good);
  }, 90_000);

  it('exits 1 when the rollout is rolled back, printing the reason and the last Events; a retry --wait is Applied', async () => {
    bad = stack.push(['sha-bad0002'], { content: 'bad' });
    stack.emulator.setNeverReady([bad]);
    const waiting = cli(['wait', `${NS}/api`, '--digest', bad, '--timeout', '60s', ...kube()]);
    stack.push(['prod'], { content: 'bad' });
    const result = await waiting;
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toMatch(/rollout of sha-bad0002: step 1\/1/);
    expect(result.stderr).toMatch(/deployment\/api \d\/2 updated, \d\/2 ready/);
    expect(result.stderr).toContain(`cvm: ${NS}/api: `);
    expect(result.stderr).toMatch(/RolledBack|known bad/);
    expect(result.stderr).toContain(`last Events of ${NS}/api:`);
    expect(result.stderr).toMatch(/Warning\s+RolloutFailed/);

    // Known bad now: answered at once.
    const again = await cli(['wait', `${NS}/api`, '--digest', bad, '--timeout', '30s', ...kube()]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('is known bad');

    // retry: cvm forgets the digest and rolls it out again; --wait reports Applied.
    const retry = await cli([
      'rollout',
      'retry',
      `${NS}/api`,
      '--wait',
      '--timeout',
      '30s',
      ...kube(),
    ]);
    expect(retry.stdout).toMatch(new RegExp(`^${NS}/api: requested cvm.dev/request=retry:\\d+\\n`));
    expect(retry.stdout).toContain(`${NS}/api: retry applied: retrying sha-bad0002 (${bad})`);
    expect(retry.code).toBe(0);
    // The retried rollout fails again (until it does, the digest is no longer known bad).
    const settle = await cli(['wait', `${NS}/api`, '--digest', bad, '--timeout', '60s', ...kube()]);
    expect(settle.code, settle.stderr).toBe(1);
    expect(settle.stderr).toContain(bad);
  }, 120_000);

  it('exits 3 when the timeout passes, saying where it stands', async () => {
    const started = Date.now();
    const result = await cli([
      'wait',
      `${NS}/api`,
      '--version',
      'sha-never00',
      '--timeout',
      '2s',
      ...kube(),
    ]);
    expect(result.code).toBe(3);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(result.stderr).toMatch(
      /^cvm: cli\/api: timed out after 2s; still waiting for cvm to roll out version sha-never00/m,
    );
  });

  it('without a target and no rollout in flight answers at once from Ready', async () => {
    const result = await cli(['wait', `${NS}/api`, ...kube()]);
    expect(result).toMatchObject({
      code: 0,
      stdout: `${NS}/api: no rollout in flight; ready at sha-0000001\n`,
    });
  });
});

describe('cvm wait and the actions through the REST API (--server, CVM_TOKEN)', () => {
  const restArgs = () => ['--server', stack.opsUrl!];
  const env = { CVM_TOKEN: TOKEN };

  it('wait exits 0 for a new version, 1 for the known-bad digest, 3 on timeout', async () => {
    const waiting = cli(
      ['wait', `${NS}/api`, '--version', 'sha-0000003', '--timeout', '60s', ...restArgs()],
      env,
    );
    newer = stack.push(['sha-0000003', 'prod']);
    const ok = await waiting;
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain(`runs sha-0000003 (${newer})`);

    const failed = await cli(['wait', `${NS}/api`, '--digest', bad, ...restArgs()], env);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('is known bad');
    expect(failed.stderr).toMatch(/RolloutFailed/); // the Events, through the REST API

    const late = await cli(
      ['wait', `${NS}/api`, '--version', 'sha-never00', '--timeout', '1500ms', ...restArgs()],
      env,
    );
    expect(late.code).toBe(3);
  }, 90_000);

  it('a wrong token and an unreachable server exit 2 with one line', async () => {
    const denied = await cli(['status', `${NS}/api`, ...restArgs()], { CVM_TOKEN: 'wrong' });
    expect(denied.code).toBe(2);
    expect(denied.stderr).toMatch(
      /^cvm: cvm at http:\/\/127\.0\.0\.1:\d+ refused the token \(CVM_TOKEN\): .*401/,
    );
    expect(denied.stderr.trim().split('\n')).toHaveLength(1);
    const port = await freePort();
    const gone = await cli(['wait', `${NS}/api`, '--server', `http://127.0.0.1:${port}`], env);
    expect(gone.code).toBe(2);
    expect(gone.stderr).toMatch(
      new RegExp(`^cvm: cannot reach cvm at http://127.0.0.1:${port}: ECONNREFUSED\\n$`),
    );
  });

  it('rollout promote with nothing in flight: the API answers 409 with the reason, exit 1', async () => {
    const result = await cli(['rollout', 'promote', `${NS}/api`, ...restArgs()], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^cvm: POST .*\/promote: 409 .*no rollout is in flight/);
  });
});

describe('status, history, rollback, sync, suspend and resume through the Kubernetes API', () => {
  it('status prints a table like kubectl get cv, and json and yaml', async () => {
    const table = await cli(['status', '-n', NS, ...kube()]);
    expect(table.code).toBe(0);
    const [header, row] = table.stdout.trim().split('\n');
    expect(header?.split(/\s{2,}/)).toEqual([
      'NAMESPACE',
      'NAME',
      'TAG',
      'VERSION',
      'READY',
      'STATE',
      'ROLLOUT',
      'AGE',
    ]);
    expect(row?.split(/\s{2,}/).slice(0, 7)).toEqual([
      NS,
      'api',
      'prod',
      'sha-0000003',
      'True',
      'Ready',
      '-',
    ]);
    // Without -n: the kubeconfig context's namespace, as kubectl.
    const inContext = `${stack.emulator.kubeconfigPath}.cli`;
    writeFileSync(
      inContext,
      readFileSync(stack.emulator.kubeconfigPath, 'utf8').replace(
        'namespace: default',
        `namespace: ${NS}`,
      ),
    );
    const mine = await cli(['status', '--kubeconfig', inContext]);
    expect(
      mine.stdout
        .trim()
        .split('\n')[1]
        ?.split(/\s{2,}/)
        .slice(0, 2),
    ).toEqual([NS, 'api']);
    const other = await cli(['status', ...kube()]); // context namespace default: none there
    expect(other).toMatchObject({ code: 0, stdout: '', stderr: 'no ContainerVersions found\n' });
    const all = await cli(['status', '-A', '-o', 'json', ...kube()]);
    expect(
      JSON.parse(all.stdout).items.map((cv: any) => `${cv.metadata.namespace}/${cv.metadata.name}`),
    ).toContain(`${NS}/api`);
    const one = await cli(['status', `${NS}/api`, '-o', 'yaml', ...kube()]);
    expect(parse(one.stdout)).toMatchObject({
      kind: 'ContainerVersion',
      status: { currentVersion: 'sha-0000003' },
    });
  });

  it('history lists the rollouts newest first; -o json is the ConfigMap', async () => {
    const json = await cli(['history', `${NS}/api`, '-o', 'json', ...kube()]);
    expect(JSON.parse(json.stdout)).toEqual(await stack.history(NS, 'api'));
    const table = await cli(['history', `${NS}/api`, ...kube()]);
    const rows = table.stdout
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(/\s{2,}/).slice(1, 4));
    expect(rows).toEqual([
      ['sha-0000003', expect.any(String), 'Succeeded'],
      ['sha-bad0002', bad.slice(7, 19), 'RolledBack'],
      ['sha-bad0002', bad.slice(7, 19), 'RolledBack'],
      ['sha-0000001', good.slice(7, 19), 'Succeeded'],
    ]);
  });

  it('sync --wait is Applied; promote --wait with nothing in flight is Refused (exit 1); suspend and resume set spec.suspend', async () => {
    const sync = await cli(['sync', `${NS}/api`, '--wait', ...kube()]);
    expect(sync.stdout).toMatch(/requested cvm.dev\/request=sync:\d+/);
    expect(sync.code, sync.stderr).toBe(0);
    expect(sync.stdout).toContain(`${NS}/api: sync applied`);
    const promote = await cli(['rollout', 'promote', `${NS}/api`, '--wait', ...kube()]);
    expect(promote.stdout).toMatch(/requested cvm.dev\/request=promote:\d+/);
    expect(promote.code).toBe(1);
    expect(promote.stderr).toContain('promote refused: no rollout is in flight to promote');
    expect((await cli(['suspend', `${NS}/api`, ...kube()])).stdout).toBe(
      `${NS}/api: spec.suspend set to true\n`,
    );
    expect((await stack.containerVersion(NS, 'api')).spec.suspend).toBe(true);
    const status = await cli(['status', `${NS}/api`, ...kube()]);
    expect(status.stdout).toContain('Suspended');
    expect(
      (await cli(['resume', `${NS}/api`, '--server', stack.opsUrl!], { CVM_TOKEN: TOKEN })).code,
    ).toBe(0);
    expect((await stack.containerVersion(NS, 'api')).spec.suspend).toBe(false);
  }, 60_000);

  it('rollback (REST, no --to) goes back to the newest Succeeded version not running; --to a failed one needs --force', async () => {
    const back = await cli(['rollback', `${NS}/api`, '--wait', '--server', stack.opsUrl!], {
      CVM_TOKEN: TOKEN,
    });
    expect(back.stdout).toMatch(
      new RegExp(`rollback to sha-0000001 \\(${good}\\): .*rollback:${good}:\\d+`),
    );
    expect(back.code, back.stderr).toBe(0);
    const ran = await cli(['wait', `${NS}/api`, '--digest', good, '--timeout', '60s', ...kube()]);
    expect(ran.code, ran.stderr).toBe(0);
    const cv = await stack.containerVersion(NS, 'api');
    expect(cv.status.failedDigests).toContain(newer);

    // sha-0000003 is now held back: a plain rollback to it is refused, --force is applied.
    const refused = await cli([
      'rollback',
      `${NS}/api`,
      '--to',
      'sha-0000003',
      '--wait',
      ...kube(),
    ]);
    expect(await annotation('api')).toMatch(new RegExp(`^rollback:${newer}:\\d+$`));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/rollback refused: .*failedDigests|rollback refused: .*failed/);
    const forced = await cli([
      'rollback',
      `${NS}/api`,
      '--to',
      'sha-0000003',
      '--force',
      '--wait',
      ...kube(),
    ]);
    expect(await annotation('api')).toMatch(new RegExp(`^force-rollback:${newer}:\\d+$`));
    expect(forced.code, forced.stderr).toBe(0);
    const unknown = await cli(['rollback', `${NS}/api`, '--to', 'sha-nope000', ...kube()]);
    expect(unknown).toMatchObject({
      code: 2,
      stderr: `cvm: --to: no version sha-nope000 in the history of ${NS}/api\n`,
    });
  }, 90_000);
});

describe('the GitHub Action (action.yml)', () => {
  it("its wait step, run by bash with the action's inputs, waits through the REST API", async () => {
    const action = parse(readFileSync(new URL('../../action.yml', import.meta.url), 'utf8'));
    const step = action.runs.steps.find((s: any) => s.name === 'cvm wait');
    expect(Object.keys(action.inputs)).toEqual(
      expect.arrayContaining([
        'image',
        'version',
        'tags',
        'cv',
        'timeout',
        'server',
        'token',
        'kubeconfig',
      ]),
    );
    // npx --prefix <action> cvm … runs this checkout's CLI from source here.
    const bin = mkdtempSync(join(tmpdir(), 'cvm-action-'));
    writeFileSync(
      join(bin, 'npx'),
      `#!/bin/sh\nshift 2\n[ "$1" = cvm ] && shift\nexec "${process.execPath}" --import tsx "${main}" "$@"\n`,
      { mode: 0o755 },
    );
    const child = spawn('bash', ['-c', step.run], {
      env: {
        PATH: `${bin}:${process.env.PATH}`,
        GITHUB_ACTION_PATH: fileURLToPath(new URL('../..', import.meta.url)),
        RUNNER_TEMP: bin,
        CV: `${NS}/api`,
        VERSION: 'sha-0000003',
        TIMEOUT: '60s',
        SERVER: stack.opsUrl!,
        CVM_TOKEN: TOKEN,
        KUBECONFIG_CONTENT: '',
      },
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const code = await new Promise((resolve) => child.on('close', resolve));
    rmSync(bin, { recursive: true, force: true });
    expect(out).toContain(`${NS}/api: runs sha-0000003 (${newer}) on every workload`);
    expect(code).toBe(0);
  }, 60_000);
});

describe("as a CI ServiceAccount bound to the install's cvm-ci ClusterRole", () => {
  it('status, history, a wait through a rollout, sync --wait, suspend and resume work with nothing forbidden, and use what the role grants', async () => {
    const role = rbacObjects(defaultInstallOptions('0.0.0')).find(
      (o) => o.kind === 'ClusterRole' && o.metadata.name === CI_ROLE,
    );
    expect(role).toBeDefined();
    await stack.apply([
      role!,
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'ci', namespace: NS } },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: 'ci', namespace: NS },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: CI_ROLE },
        subjects: [{ kind: 'ServiceAccount', name: 'ci', namespace: NS }],
      },
    ]);
    const ci = ['--kubeconfig', stack.emulator.writeServiceAccountKubeconfig(NS, 'ci')];
    const runs = [
      await cli(['status', `${NS}/api`, ...ci]),
      await cli(['history', `${NS}/api`, ...ci]),
    ];
    const digest = stack.push(['sha-000000c', 'prod']);
    runs.push(await cli(['wait', `${NS}/api`, '--digest', digest, '--timeout', '60s', ...ci]));
    runs.push(await cli(['sync', `${NS}/api`, '--wait', ...ci]));
    runs.push(await cli(['suspend', `${NS}/api`, ...ci]));
    runs.push(await cli(['resume', `${NS}/api`, ...ci]));
    // A wait on the known-bad digest fails at once, printing the CV's Events.
    const failed = await cli(['wait', `${NS}/api`, '--digest', bad, '--timeout', '30s', ...ci]);
    expect(failed.code, failed.stderr).toBe(1);
    expect(failed.stderr).toContain(`last Events of ${NS}/api:`);
    for (const run of runs) {
      expect(run.stderr).not.toMatch(/forbidden/i);
      expect(run.code, run.stderr).toBe(0);
    }
    // A namespace the binding does not cover is forbidden, naming the ServiceAccount.
    const elsewhere = await cli(['status', '-n', 'default', ...ci]);
    expect(elsewhere.code).toBe(2);
    expect(elsewhere.stderr).toContain('system:serviceaccount:cli:ci');

    const used = new Set(
      stack.emulator.rbac.usage(NS, 'ci').map((u) => `${u.verb} ${u.apiGroup}/${u.resource}`),
    );
    // Every grant but the workload reads of the progress lines (only while a wait sees a rollout
    // in flight, and only for the kinds it touched) was used by these commands.
    const granted = CI_RULES.filter((r) => !['apps', 'batch'].includes(r.apiGroups[0]!)).flatMap(
      (r) => r.resources.flatMap((res) => r.verbs.map((v) => `${v} ${r.apiGroups[0]}/${res}`)),
    );
    for (const grant of granted) expect([...used], grant).toContain(grant);
  }, 90_000);
});

describe('bad input exits 2 with one line naming the problem', () => {
  it.each([
    [['wait', 'no-slash'], /give the ContainerVersion as <namespace>\/<name>, got "no-slash"/],
    [['wait', 'Bad_NS/api'], /namespace "Bad_NS" is not a DNS-1123 label/],
    [
      ['wait', 'cli/api', '--timeout', 'soon'],
      /--timeout must be a duration such as 90s, 10m or 1h/,
    ],
    [
      ['wait', 'cli/api', '--digest', 'abc'],
      /--digest must be a digest sha256:<64 hex digits>, got "abc"/,
    ],
    [['wait', 'cli/nope'], /^cvm: no ContainerVersion cli\/nope$/],
    [['status', 'cli/nope'], /^cvm: no ContainerVersion cli\/nope$/],
    [['rollout', 'abort', 'cli/nope'], /^cvm: no ContainerVersion cli\/nope$/],
    [['history', 'nope/api'], /^cvm: no ContainerVersion nope\/api$/],
  ])('%j', async (args, message) => {
    const result = await cli([...args, ...kube()]);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr.trim()).toMatch(message);
  });

  it('an unreachable cluster exits 2 naming the API server', async () => {
    const port = await freePort();
    const kubeconfig = `${stack.emulator.kubeconfigPath}.down`;
    writeFileSync(
      kubeconfig,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'down', cluster: { server: `http://127.0.0.1:${port}` } }],
        users: [{ name: 'u', user: {} }],
        contexts: [{ name: 'down', context: { cluster: 'down', user: 'u' } }],
        'current-context': 'down',
      }),
    );
    const result = await cli(['status', '-A', '--kubeconfig', kubeconfig]);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain(
      `cvm: cannot reach the Kubernetes API at http://127.0.0.1:${port}`,
    );
  });
});
