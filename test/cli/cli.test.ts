import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

/** Runs `cvm` as a child process with only the given CVM_* variables. */
async function cvm(args: string[], env: Record<string, string> = {}) {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('CVM_')),
  );
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', main, ...args],
      { env: { ...clean, ...env } },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('cvm CLI', () => {
  it('version prints the package version', async () => {
    const result = await cvm(['version']);
    expect(result).toMatchObject({
      code: 0,
      stdout: `cvm ${pkg.version} (node ${process.version})\n`,
    });
  });

  it('manifests crd prints infra/kubernetes/crd.yaml', async () => {
    const result = await cvm(['manifests', 'crd']);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      readFileSync(new URL('../../infra/kubernetes/crd.yaml', import.meta.url), 'utf8'),
    );
    expect(parse(result.stdout)).toMatchObject({ kind: 'CustomResourceDefinition' });
  });

  it('config prints the effective configuration with secrets masked', async () => {
    const result = await cvm(['config', '--json'], {
      CVM_OPS_TOKEN: 'do-not-print-this-token',
      CVM_REDIS_URL: 'redis://:hunter2@redis:6379',
      CVM_WEBHOOK_PORT: '9090',
    });
    expect(result.code).toBe(0);
    expect(result.stdout).not.toContain('do-not-print-this-token');
    expect(result.stdout).not.toContain('hunter2');
    expect(JSON.parse(result.stdout)).toMatchObject({
      CVM_OPS_TOKEN: '********',
      CVM_REDIS_URL: 'redis://:********@redis:6379',
      CVM_WEBHOOK_PORT: 9090,
      CVM_QUEUE_PREFIX: 'cvm',
    });
  });

  it('config exits 2 with one message naming every bad key', async () => {
    const result = await cvm(['config'], { CVM_OPS_PORT: 'x', CVM_LOG_LEVEL: 'chatty' });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/^cvm: invalid configuration: CVM_OPS_PORT: .*; CVM_LOG_LEVEL: /);
  });

  it('an unknown command exits 2 with help', async () => {
    const result = await cvm(['deploy-everything']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("unknown command 'deploy-everything'");
    expect(result.stderr).toContain('manifests');
  });
});
