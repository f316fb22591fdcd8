import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import {
  containerVersion,
  deployment,
  namespace,
  startCvmStack,
  type CvmStack,
} from '../support/cvm-stack.js';
import { freePort } from '../support/redis-server.js';
import { waitFor } from '../support/wait-for.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);

let stack: CvmStack | undefined;
let cvm: ChildProcess | undefined;
const dir = mkdtempSync(join(tmpdir(), 'cvm-prod-install-'));

afterAll(async () => {
  if (cvm && cvm.exitCode === null) {
    const exited = new Promise((resolve) => cvm!.once('exit', resolve));
    cvm.kill('SIGTERM');
    await exited;
  }
  await stack?.stop();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

/**
 * What the Dockerfile does, without Docker: `npm pack` (its `prepare` builds dist), unpack, the
 * lockfile beside it, `npm ci --omit=dev --ignore-scripts`. A runtime dependency that hides in
 * devDependencies makes `cvm serve` fail to start here.
 */
async function productionInstall(): Promise<string> {
  const { stdout } = await run('npm', ['pack', '--silent', '--pack-destination', dir], {
    cwd: ROOT,
    timeout: 180_000,
  });
  const tarball = join(dir, stdout.trim().split('\n').pop()!);
  await run('tar', ['-xzf', tarball, '-C', dir], { timeout: 30_000 });
  const app = join(dir, 'package');
  copyFileSync(join(ROOT, 'package-lock.json'), join(app, 'package-lock.json'));
  await run('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund'], {
    cwd: app,
    timeout: 240_000,
  });
  return app;
}

describe('a production install (npm pack, npm ci --omit=dev) runs cvm serve end to end', () => {
  it('serves /readyz and rolls out a pushed image through its own webhook port, with no devDependency installed', async () => {
    const [app, started] = await Promise.all([
      productionInstall(),
      startCvmStack({ workers: false, notifications: false }),
    ]);
    stack = started;
    // (typescript itself is there: valibot, under @bull-board/api, names it as a peer.)
    for (const dev of ['tsx', 'vitest', 'eslint', 'prettier', 'playwright-core'])
      expect(existsSync(join(app, 'node_modules', dev)), dev).toBe(false);
    expect(existsSync(join(app, 'src'))).toBe(false);

    const [opsPort, webhookPort] = [await freePort(), await freePort()];
    const inherited = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !k.startsWith('CVM_') && k !== 'NODE_OPTIONS'),
    );
    // The Dockerfile's entrypoint, from the unpacked package.
    cvm = spawn(process.execPath, ['dist/cli/main.js', 'serve'], {
      cwd: app,
      env: {
        ...inherited,
        ...stack.env,
        NODE_ENV: 'production',
        CVM_LOG_LEVEL: 'info',
        CVM_OPS_PORT: String(opsPort),
        CVM_WEBHOOK_PORT: String(webhookPort),
        CVM_LISTEN_HOST: '127.0.0.1',
        CVM_LEASE_DURATION_SECONDS: '5',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    cvm.stdout?.on('data', (c: Buffer) => (output += c.toString()));
    cvm.stderr?.on('data', (c: Buffer) => (output += c.toString()));
    await waitFor(
      () => {
        if (cvm?.exitCode !== null) throw new Error(`cvm serve exited: ${output}`);
        return output.includes('"msg":"cvm started"');
      },
      'the packaged cvm serve to start',
      { timeoutMs: 20_000 },
    );
    const ready = await waitFor(
      async () => {
        const r = await fetch(`http://127.0.0.1:${opsPort}/readyz`).catch(() => undefined);
        return r?.status === 200 ? await r.json() : undefined;
      },
      '/readyz to answer 200',
      { timeoutMs: 10_000, intervalMs: 100 },
    );
    expect(ready).toEqual({ status: 'ready', checks: { redis: true } });

    const ns = 'prod-install';
    const digest = stack.push(['sha-a000001', 'prod']);
    await stack.apply([
      namespace(ns),
      deployment(ns, 'api', 'example.com/old/api:1'),
      containerVersion(ns, 'api', {
        imageRepo: stack.repo,
        tag: 'prod',
        versionPattern: '^sha-[0-9a-f]{7}$',
        selector: { app: 'api' },
        container: 'api',
        pollIntervalSeconds: 0,
      }),
    ]);
    const status = await stack.postGeneric(
      { image: `${stack.repo}:prod`, digest, id: 'prod-install-1' },
      `http://127.0.0.1:${webhookPort}`,
    );
    expect(status).toBe(202);
    const cv = await stack.rolloutOf(ns, 'api', digest, 40_000);
    expect(cv.status.lastRollout.result).toBe('Succeeded');
    const d = await stack.deployment(ns, 'api');
    expect(d.spec.template.spec.containers[0].image).toBe(`${stack.repo}:sha-a000001@${digest}`);
  }, 420_000);
});
