import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { describeMissing, missingPrerequisites, type MachineProbe } from './prerequisites.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const machine = (lacking: string[], redis = true): MachineProbe => ({
  onPath: (command) => !lacking.includes(command),
  executable: (path) => !lacking.includes(path),
  redisAnswers: () => Promise.resolve(redis),
});

describe('missingPrerequisites', () => {
  it.each([
    [[], true, []],
    [['/usr/bin/chromium'], true, ['chromium']],
    [['skopeo', 'kubectl'], true, ['skopeo', 'kubectl']],
    [['prometheus'], true, ['prometheus']],
    [['redis-sentinel'], true, ['redis-sentinel']],
    [[], false, ['redis']],
  ])('a machine lacking %j (Redis up: %s) misses %j', async (lacking, redis, keys) => {
    const missing = await missingPrerequisites(machine(lacking, redis), {});
    expect(missing.map((p) => p.key)).toEqual(keys);
  });

  it('looks for Chromium where CHROMIUM_PATH says, and says how to get it', async () => {
    const missing = await missingPrerequisites(machine(['/opt/chrome']), {
      CHROMIUM_PATH: '/opt/chrome',
    });
    expect(describeMissing(missing)).toBe(
      [
        'This machine lacks what some tests need (they will fail, naming it):',
        '  - Chromium (/opt/chrome), for the queue board browser test: sudo apt-get install chromium (.ci/run installs it), or set CHROMIUM_PATH to a Chromium binary',
      ].join('\n'),
    );
  });
});

describe('a test run on a machine without Chromium', () => {
  it('says once, up front, what is missing, and the browser tests fail with that message', async () => {
    const run = await new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawn(
        process.execPath,
        [
          'node_modules/vitest/vitest.mjs',
          'run',
          'test/http/queue-board-browser.test.ts',
          '--reporter=verbose',
        ],
        {
          cwd: ROOT,
          env: {
            ...process.env,
            CHROMIUM_PATH: '/nonexistent/chromium',
            NO_COLOR: '1',
            FORCE_COLOR: undefined,
          },
        },
      );
      let output = '';
      child.stdout.on('data', (c: Buffer) => (output += c.toString()));
      child.stderr.on('data', (c: Buffer) => (output += c.toString()));
      child.on('close', (code) => resolve({ code, output }));
    });
    expect(run.code).toBe(1);
    const banner = run.output.indexOf('This machine lacks what some tests need');
    expect(banner).toBeGreaterThanOrEqual(0);
    expect(banner).toBeLessThan(run.output.indexOf('queue-board-browser.test.ts'));
    expect(run.output).toContain(
      'Chromium (/nonexistent/chromium), for the queue board browser test',
    );
    expect(run.output).toMatch(/Tests +2 failed/);
    expect(run.output).not.toContain('skipped');
    expect(run.output).not.toMatch(/browserType\.launch|Failed to launch/);
  }, 60_000);
});
