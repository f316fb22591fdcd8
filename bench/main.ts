// `npm run bench`: every benchmark, each figure printed beside the baseline it is compared with,
// measured in the same run. Options: --only NAME (a benchmark, or a figure's name or its prefix,
// e.g. `ingest`), --json FILE (writes [{ name, value, unit, baseline, baselineName, ratio }]).
// Exits 1 when a figure misses its target.
import { parseArgs } from 'node:util';
import { apiList } from './api-list.js';
import { emulatorFill } from './emulator-fill.js';
import {
  figure,
  formatTable,
  selectBenches,
  writeJson,
  type BenchEntry,
  type Figure,
} from './figures.js';
import { pushToPatch } from './push-to-patch.js';
import { rolloutsAtOnce } from './rollouts-at-once.js';
import { scale } from './scale.js';

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    json: { type: 'string' },
  },
});

const BENCHES: Record<string, BenchEntry> = {
  'push-to-patch': { figures: ['push-to-patch.p99'], run: benchPushToPatch },
  'rollouts.at-once': { figures: ['rollouts.at-once'], run: benchRolloutsAtOnce },
  scale: {
    figures: [
      'scale.rss',
      'scale.idle-cpu',
      'scale.registry-requests',
      'scale.first-sync',
      'scale.idle-api-requests',
    ],
    // About 4 minutes: the first sync is given its target (120 s), the polls are counted for 30 s.
    run: () => scale({ cvs: 10_000, firstSyncTimeoutSeconds: 120, pushSeconds: 30 }),
  },
  'api.lists': {
    figures: ['api.workloads.p99', 'api.containerversions.p99'],
    run: benchApiLists,
  },
  'emulator.fill': { figures: ['emulator.fill-rate'], run: benchEmulatorFill },
};

async function main(): Promise<void> {
  const figures: Figure[] = [];
  const began = Date.now();
  for (const name of selectBenches(BENCHES, values.only)) {
    const startedMs = Date.now();
    console.error(`bench ${name}…`);
    const measured = await BENCHES[name]!.run();
    console.error(`bench ${name}: ${((Date.now() - startedMs) / 1000).toFixed(0)} s`);
    figures.push(...measured);
  }
  console.log(formatTable(figures));
  console.log(`(${figures.length} figures in ${((Date.now() - began) / 1000).toFixed(0)} s)`);
  if (values.json) writeJson(values.json, figures);
  if (figures.some((f) => f.met === false)) process.exitCode = 1;
}

async function benchApiLists(): Promise<Figure[]> {
  const r = await apiList({ cvs: 500 });
  const floor = r.timings['/healthz']!;
  return (['workloads', 'containerversions'] as const).map((list) => {
    const t = r.timings[`/api/v1/${list}`]!;
    return figure({
      name: `api.${list}.p99`,
      value: t.p99,
      unit: 'ms',
      baseline: floor.p99,
      baselineName: 'GET /healthz p99, same server',
      target: 'value < 50 ms',
      met: t.p99 < 50,
      details: [`${r.cvs} CVs; p50 ${t.p50.toFixed(1)} ms (healthz ${floor.p50.toFixed(1)} ms)`],
    });
  });
}

async function benchPushToPatch(): Promise<Figure[]> {
  const r = await pushToPatch({
    cvs: 200,
    rate: 200,
    seconds: 20,
    ...(process.env.BENCH_WORKER_NODE_OPTIONS
      ? { workerNodeOptions: process.env.BENCH_WORKER_NODE_OPTIONS }
      : {}),
  });
  const ratio = r.p99 / r.floor.p99;
  const allApplied = r.patched === r.events;
  return [
    figure({
      name: 'push-to-patch.p99',
      value: r.p99,
      unit: 'ms',
      baseline: r.floor.p99,
      baselineName: 'floor: Redis round trips + HEAD + PATCH alone, p99',
      target: 'value < 50 ms, ratio ≤ 3, every event applied',
      met: r.p99 < 50 && ratio <= 3 && allApplied,
      details: [
        `${r.events} events (200 CVs, 200/s for 20 s), ${r.patched} applied (their image or a later one of the CV patched, ADR 0003)${r.refused > 0 ? `, ${r.refused} not accepted` : ''}; p50 ${r.p50.toFixed(1)} ms, p90 ${r.p90.toFixed(1)} ms (floor p50 ${r.floor.p50.toFixed(1)} ms); sender lag ${r.sendLagMs.toFixed(0)} ms`,
      ],
    }),
  ];
}

async function benchRolloutsAtOnce(): Promise<Figure[]> {
  const r = await rolloutsAtOnce({ cvs: 200, podReadySeconds: 20, timeScale: 1 });
  return [
    figure({
      name: 'rollouts.at-once',
      value: r.allMs / 1000,
      unit: 's',
      baseline: r.singleMs / 1000,
      baselineName: 'one CV alone, push to Ready',
      target: 'ratio ≤ 1.5',
      met: r.ratio <= 1.5,
      details: [
        `${r.cvs} CVs pushed within 1 s; API requests per rollout ${r.apiRequestsPerRollout.toFixed(1)} (one CV alone: ${r.singleApiRequests})`,
      ],
    }),
  ];
}

async function benchEmulatorFill(): Promise<Figure[]> {
  const r = await emulatorFill({ cvs: 10_000, round: 2_000, concurrency: 24 });
  const first = r.rates[0]!;
  const last = r.rates[r.rates.length - 1]!;
  return [
    figure({
      name: 'emulator.fill-rate',
      value: last,
      unit: 'obj/s',
      baseline: first,
      baselineName: 'first 2,000 CVs, same run',
      target: 'ratio ≥ 0.8',
      met: last / first >= 0.8,
      details: [
        `last 2,000 of ${r.cvs} CVs + Deployments + namespaces over HTTP, 24 POSTs in flight; rounds ${r.roundMs.map((ms) => (ms / 1000).toFixed(1)).join(', ')} s; total ${(r.totalMs / 1000).toFixed(0)} s; emulator RSS ${r.rssMiB.toFixed(0)} MiB`,
        `emulator CPU per object: first 2,000 ${r.cpuMsPerObject[0]!.toFixed(2)} ms, last 2,000 ${r.cpuMsPerObject[r.cpuMsPerObject.length - 1]!.toFixed(2)} ms`,
      ],
    }),
  ];
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 2;
});
