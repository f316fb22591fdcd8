// What every benchmark reports: figures, each beside the baseline it is compared with, measured
// in the same run. `npm run bench` prints them as a table and `--json FILE` writes them.
import { writeFileSync } from 'node:fs';

/** One measured figure and the baseline it is compared with. */
export interface Figure {
  /** Fixed name, e.g. `ingest.generic` (DESIGN §9, issue 16). */
  name: string;
  value: number;
  /** Unit of `value` and `baseline`: `req/s`, `ms`, `s`, `MiB`, `%`, `req/min`… */
  unit: string;
  /** The baseline's figure in the same unit, measured in the same run; null when there is none. */
  baseline: number | null;
  /** What the baseline is, in a few words. */
  baselineName: string;
  /** value / baseline; null without a baseline (or a zero one). */
  ratio: number | null;
  /** The target in words (`ratio ≥ 0.6`, `value < 150 MiB`), for the table. */
  target?: string;
  /** Whether the target holds; undefined when the figure has no target. */
  met?: boolean;
  /** Further facts printed under the row (p99, request counts…), not written to JSON. */
  details?: string[];
}

/** A figure with its ratio computed from value and baseline. */
export function figure(fields: Omit<Figure, 'ratio'> & { ratio?: number | null }): Figure {
  const ratio =
    fields.ratio !== undefined
      ? fields.ratio
      : fields.baseline === null || fields.baseline === 0
        ? null
        : fields.value / fields.baseline;
  return { ...fields, ratio };
}

const number = (x: number | null) =>
  x === null
    ? '–'
    : Math.abs(x) >= 100
      ? x.toFixed(0)
      : Math.abs(x) >= 10
        ? x.toFixed(1)
        : x.toFixed(2);

/** The table `npm run bench` prints: one row a figure. */
export function formatTable(figures: readonly Figure[]): string {
  const rows = figures.map((f) => [
    f.name,
    `${number(f.value)} ${f.unit}`,
    f.baseline === null ? '–' : `${number(f.baseline)} ${f.unit}`,
    f.baselineName,
    f.ratio === null ? '–' : `${number(f.ratio)}×`,
    f.target ?? '',
    f.met === undefined ? '' : f.met ? 'met' : 'NOT met',
  ]);
  const head = ['name', 'value', 'baseline', 'baseline is', 'ratio', 'target', ''];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  const out = [line(head), line(widths.map((w) => '-'.repeat(w)))];
  figures.forEach((f, i) => {
    out.push(line(rows[i]!));
    for (const d of f.details ?? []) out.push(`    ${d}`);
  });
  return out.join('\n');
}

/** Writes `[{ name, value, unit, baseline, baselineName, ratio }]` to `path`. */
export function writeJson(path: string, figures: readonly Figure[]): void {
  const rows = figures.map(({ name, value, unit, baseline, baselineName, ratio }) => ({
    name,
    value,
    unit,
    baseline,
    baselineName,
    ratio,
  }));
  writeFileSync(path, `${JSON.stringify(rows, null, 2)}\n`);
}

/** The q-quantile (0..1) of ascending `sorted`; NaN when empty. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** A benchmark: the names of the figures it measures (for --only) and how it measures them. */
export interface BenchEntry {
  figures: string[];
  run: () => Promise<Figure[]>;
}

/**
 * The benchmarks `--only` selects: `only` names a benchmark or a figure, or a prefix of either up
 * to a dot (`ingest` selects `ingest.generic` and `ingest.dockerhub`); all of them without it.
 * Throws naming every choice when nothing matches.
 */
export function selectBenches(
  table: Readonly<Record<string, Pick<BenchEntry, 'figures'>>>,
  only: string | undefined,
): string[] {
  const names = Object.keys(table);
  if (only === undefined) return names;
  const match = (n: string) => n === only || n.startsWith(`${only}.`);
  const chosen = names.filter((b) => match(b) || table[b]!.figures.some(match));
  if (chosen.length === 0) {
    const all = new Set(names.flatMap((b) => [b, ...table[b]!.figures]));
    throw new Error(`--only: no benchmark or figure ${only}; one of ${[...all].join(', ')}`);
  }
  return chosen;
}
