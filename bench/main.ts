// `npm run bench`: every benchmark, each figure printed beside the baseline it is compared with,
// measured in the same run. Options: --only NAME (rollouts.at-once, api.lists), --cvs N,
// --pod-ready-seconds S, --time-scale X.
import { parseArgs } from 'node:util';
import { apiList } from './api-list.js';
import { rolloutsAtOnce } from './rollouts-at-once.js';

const { values } = parseArgs({
  options: {
    cvs: { type: 'string', default: '200' },
    'pod-ready-seconds': { type: 'string', default: '20' },
    'time-scale': { type: 'string', default: '1' },
    only: { type: 'string' },
  },
});

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

const BENCHES: Record<string, () => Promise<void>> = {
  'rollouts.at-once': benchRolloutsAtOnce,
  'api.lists': benchApiLists,
};

async function main(): Promise<void> {
  const names = values.only ? [values.only] : Object.keys(BENCHES);
  for (const name of names) {
    const bench = BENCHES[name];
    if (!bench)
      throw new Error(`--only: no benchmark ${name}; one of ${Object.keys(BENCHES).join(', ')}`);
    await bench();
  }
}

async function benchApiLists(): Promise<void> {
  const r = await apiList({ cvs: 500 });
  const target = 50;
  const floor = r.timings['/healthz']!;
  console.log(
    `REST API lists (${r.cvs} CVs and Deployments, ${r.requests} requests each, from the caches)`,
  );
  console.log(
    `  baseline: GET /healthz on the same server    p50 ${floor.p50.toFixed(1)} ms, p99 ${floor.p99.toFixed(1)} ms`,
  );
  for (const path of ['/api/v1/workloads', '/api/v1/containerversions']) {
    const t = r.timings[path]!;
    console.log(
      `  GET ${path.padEnd(26)} p50 ${t.p50.toFixed(1)} ms, p99 ${t.p99.toFixed(1)} ms (target < ${target} ms): ${t.p99 < target ? 'met' : 'NOT met'}`,
    );
    if (t.p99 >= target) process.exitCode = 1;
  }
}

async function benchRolloutsAtOnce(): Promise<void> {
  const r = await rolloutsAtOnce({
    cvs: Number(values.cvs),
    podReadySeconds: Number(values['pod-ready-seconds']),
    timeScale: Number(values['time-scale']),
  });
  const target = 1.5;
  console.log('rollouts at once (one cvm worker process, default concurrency)');
  console.log(`  baseline: one CV alone, push to Ready        ${seconds(r.singleMs)}`);
  console.log(`  ${r.cvs} CVs pushed within one second, all Ready  ${seconds(r.allMs)}`);
  console.log(
    `  ratio ${r.ratio.toFixed(2)}× (target ≤ ${target}×): ${r.ratio <= target ? 'met' : 'NOT met'}`,
  );
  console.log(
    `  Kubernetes API requests per rollout: ${r.apiRequestsPerRollout.toFixed(1)} (one CV alone: ${r.singleApiRequests})`,
  );
  if (r.ratio > target) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 2;
});
