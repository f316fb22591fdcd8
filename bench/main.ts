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
import { ingest, type RouteResult } from './ingest.js';
import { receiverRss } from './receiver-rss.js';
import { rolloutsAtOnce } from './rollouts-at-once.js';
import { scale } from './scale.js';

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    json: { type: 'string' },
  },
});

const BENCHES: Record<string, BenchEntry> = {
  ingest: { figures: ['ingest.generic', 'ingest.dockerhub'], run: benchIngest },
  'receiver.rss': {
    figures: ['receiver.rss', 'receiver.rss-after-load'],
    run: benchReceiverRss,
  },
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

async function benchIngest(): Promise<Figure[]> {
  const r = await ingest();
  const lost = (route: RouteResult) => route.accepted - route.jobs;
  const details = (route: RouteResult) => [
    `p99 ${route.p99Ms.toFixed(1)} ms, p50 ${route.p50Ms.toFixed(1)} ms (echo p99 ${r.echo.p99Ms.toFixed(1)} ms, p50 ${r.echo.p50Ms.toFixed(1)} ms)`,
    `server CPU per request ${route.cpuUsPerRequest.toFixed(0)} µs (echo ${r.echo.cpuUsPerRequest.toFixed(0)} µs)`,
    `${route.accepted} answered 202, ${route.jobs} jobs in Redis (${lost(route) === 0 ? 'none lost' : `${lost(route)} LOST`}), ${route.refused} other answers, ${route.errors} errors/timeouts`,
    `${r.connections} connections, ${r.runs} alternating runs of about ${r.runSeconds} s each, medians; server on CPU 0, autocannon on CPU 1`,
  ];
  const echoName = 'bare express 5 JSON echo, same core and load';
  return [
    figure({
      name: 'ingest.generic',
      value: r.generic.rps,
      unit: 'req/s',
      baseline: r.echo.rps,
      baselineName: echoName,
      target: 'ratio ≥ 0.6, p99 < 20 ms',
      met: r.generic.rps / r.echo.rps >= 0.6 && r.generic.p99Ms < 20 && lost(r.generic) === 0,
      details: details(r.generic),
    }),
    figure({
      name: 'ingest.dockerhub',
      value: r.dockerhub.rps,
      unit: 'req/s',
      baseline: r.echo.rps,
      baselineName: echoName,
      target: 'ratio ≥ 0.6',
      met: r.dockerhub.rps / r.echo.rps >= 0.6 && lost(r.dockerhub) === 0,
      details: details(r.dockerhub),
    }),
  ];
}

async function benchReceiverRss(): Promise<Figure[]> {
  const r = await receiverRss();
  const baselineName = 'bare node -e, idle';
  return [
    figure({
      name: 'receiver.rss',
      value: r.idleMiB,
      unit: 'MiB',
      baseline: r.bareNodeMiB,
      baselineName,
      target: 'value < 100 MiB',
      met: r.idleMiB < 100,
      details: [`cvm receiver idle, settled`],
    }),
    figure({
      name: 'receiver.rss-after-load',
      value: r.afterLoadMiB,
      unit: 'MiB',
      baseline: r.bareNodeMiB,
      baselineName,
      details: [
        `after ${r.events} signed generic webhooks: ${r.accepted} answered 202, ${r.jobs} jobs in Redis`,
      ],
    }),
  ];
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 2;
});
