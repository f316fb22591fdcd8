import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { figure, formatTable, selectBenches, writeJson } from '../../bench/figures.js';

const TABLE = {
  ingest: { figures: ['ingest.generic', 'ingest.dockerhub'] },
  scale: { figures: ['scale.rss', 'scale.idle-cpu'] },
  'rollouts.at-once': { figures: ['rollouts.at-once'] },
};

describe('bench figures', () => {
  it.each([
    [{ value: 3, baseline: 2 }, 1.5],
    [{ value: 3, baseline: 0 }, null],
    [{ value: 3, baseline: null }, null],
  ])('the ratio of %j is %s', (fields, ratio) => {
    const f = figure({ name: 'x', unit: 's', baselineName: 'b', ...fields });
    expect(f.ratio).toBe(ratio);
  });

  it('writes exactly the issue\u2019s fields, in a list', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'cvm-bench-')), 'out.json');
    const f = figure({
      name: 'ingest.generic',
      value: 3000,
      unit: 'req/s',
      baseline: 5000,
      baselineName: 'bare express',
      target: 'ratio ≥ 0.6',
      met: true,
      details: ['p99 4 ms'],
    });
    writeJson(path, [f]);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual([
      {
        name: 'ingest.generic',
        value: 3000,
        unit: 'req/s',
        baseline: 5000,
        baselineName: 'bare express',
        ratio: 0.6,
      },
    ]);
  });

  it('prints each figure beside its baseline, its ratio and whether the target holds', () => {
    const table = formatTable([
      figure({
        name: 'scale.rss',
        value: 180,
        unit: 'MiB',
        baseline: 40,
        baselineName: 'bare node',
        target: 'value < 150 MiB',
        met: false,
        details: ['10000 CVs'],
      }),
    ]);
    const row = table.split('\n').find((l) => l.startsWith('scale.rss'));
    expect(row).toMatch(/180 MiB\s+40.0 MiB\s+bare node\s+4.50×\s+value < 150 MiB\s+NOT met/);
    expect(table).toContain('    10000 CVs');
  });

  it.each([
    [undefined, ['ingest', 'scale', 'rollouts.at-once']],
    ['ingest', ['ingest']],
    ['ingest.dockerhub', ['ingest']],
    ['scale.rss', ['scale']],
    ['rollouts', ['rollouts.at-once']],
  ])('--only %s runs %j', (only, expected) => {
    expect(selectBenches(TABLE, only)).toEqual(expected);
  });

  it('--only with an unknown name names every choice', () => {
    expect(() => selectBenches(TABLE, 'ingest.gen')).toThrow(
      /no benchmark or figure ingest\.gen; one of ingest, ingest\.generic, ingest\.dockerhub, scale/,
    );
  });
});
