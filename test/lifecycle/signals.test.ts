import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const child = fileURLToPath(new URL('../fixtures/signal-child.ts', import.meta.url));

async function runUntilSignal(stopMs: number, signals: NodeJS.Signals[]) {
  const proc = spawn(process.execPath, ['--import', 'tsx', child, String(stopMs)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  proc.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const deadline = Date.now() + 15_000;
  while (!out.includes('ready') && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 20));
  expect(out).toContain('ready');
  for (const signal of signals) proc.kill(signal);
  const [code] = (await once(proc, 'exit')) as [number | null];
  const journalLine = out.split('\n').find((l) => l.startsWith('['));
  return { code, journal: journalLine ? (JSON.parse(journalLine) as string[]) : [] };
}

describe('signal handling', () => {
  it('SIGTERM stops intake first, then workers, then connections, and exits 0', async () => {
    const { code, journal } = await runUntilSignal(0, ['SIGTERM']);
    expect(code).toBe(0);
    expect(journal.slice(3)).toEqual(['stop receiver', 'stop workers', 'stop redis']);
  });

  it('a component that overruns the stop timeout makes the process exit 1, after the others stopped', async () => {
    const { code, journal } = await runUntilSignal(5_000, ['SIGINT']);
    expect(code).toBe(1);
    expect(journal.slice(3)).toEqual(['stop receiver', 'stop redis']);
  });
});
