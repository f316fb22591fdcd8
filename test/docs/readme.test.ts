import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/program.js';
import { CONFIG_KEYS } from '../../src/config/config.js';
import {
  anchorsOf,
  cvmCommands,
  cvmVariables,
  namedPaths,
  npmScripts,
  projectMarkdown,
  relativeLinks,
} from './markdown-facts.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const files = projectMarkdown(ROOT);
const readme = files.find((f) => f.path === 'README.md');
/** What describes the code as it is; ADRs record decisions and may name what is still planned. */
const current = files.filter((f) => f.path === 'README.md' || f.path === 'docs/design.md');

describe('README.md and docs/ say what is true', () => {
  it('the README links the design document, and the design document exists', () => {
    expect(readme?.text).toContain('](docs/design.md)');
    expect(files.map((f) => f.path)).toContain('docs/design.md');
    expect(readme?.text).not.toMatch(/DESIGN\.md|DESIGN §/);
  });

  it.each(files.map((f) => [f.path, f] as const))(
    'every relative link in %s resolves',
    (_, file) => {
      const broken = relativeLinks(file.text).filter((link) => {
        const [target = '', anchor] = link.split('#');
        const path =
          target === '' ? join(ROOT, file.path) : normalize(join(ROOT, dirname(file.path), target));
        if (!existsSync(path)) return true;
        if (anchor === undefined || !path.endsWith('.md')) return false;
        return !anchorsOf(readFileSync(path, 'utf8')).has(anchor);
      });
      expect(broken).toEqual([]);
    },
  );

  it.each(files.map((f) => [f.path, f] as const))(
    'every repository path %s names exists',
    (_, file) => {
      const missing = namedPaths(file.text).filter((path) => !existsSync(join(ROOT, path)));
      expect(missing).toEqual([]);
    },
  );

  it('every npm script the README and docs/design.md name is in package.json', () => {
    const { scripts } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    const named = current.flatMap((f) => npmScripts(f.text));
    expect(named).toContain('demo');
    expect(named.filter((s) => !(s in scripts))).toEqual([]);
  });

  it('every cvm command the README and docs/design.md name exists', async () => {
    const program = await buildProgram({ out: () => undefined, err: () => undefined, env: {} });
    const known = (path: string[]): boolean => {
      let commands = program.commands;
      for (const name of path) {
        const found = commands.find((c) => c.name() === name);
        if (!found) return false;
        if (found.commands.length === 0) return true;
        commands = found.commands;
      }
      return true;
    };
    const named = current.flatMap((f) => cvmCommands(f.text));
    expect(named.map((c) => c.join(' '))).toEqual(expect.arrayContaining(['serve', 'worker']));
    expect(named.filter((c) => !known(c)).map((c) => c.join(' '))).toEqual([]);
  });

  it('every CVM_ variable the README and docs/design.md name is a configuration key', () => {
    // What a verify Job gets in its environment (src/workers/rollout-effects.ts, rollout-run.ts), not config.
    const verifyJobEnv = [
      'CVM_IMAGE',
      'CVM_VERSION',
      'CVM_DIGEST',
      'CVM_PREVIEW_URL',
      'CVM_ACTIVE_URL',
    ];
    // The CLI's token for cvm's REST API (src/cli/cv-target.ts), not a configuration key.
    const cliEnv = ['CVM_TOKEN'];
    const keys = new Set<string>(Object.values(CONFIG_KEYS).map((k) => k.env));
    const named = current.flatMap((f) => cvmVariables(f.text));
    expect(named).toContain('CVM_OPS_TOKEN');
    expect(
      named.filter((v) => !keys.has(v) && !verifyJobEnv.includes(v) && !cliEnv.includes(v)),
    ).toEqual([]);
  });

  it('.ci/run, which the README sends newcomers to, is an executable script', () => {
    expect(readme?.text).toContain('.ci/run');
    expect(() => accessSync(join(ROOT, '.ci/run'), constants.X_OK)).not.toThrow();
  });
});
