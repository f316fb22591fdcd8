// `npm run bench`: every benchmark, each figure printed beside the baseline it is compared with,
// measured in the same run. Options: --cvs N, --pod-ready-seconds S, --time-scale X.
import { parseArgs } from 'node:util';
import { rolloutsAtOnce } from './rollouts-at-once.js';

const { values } = parseArgs({
  options: {
    cvs: { type: 'string', default: '200' },
    'pod-ready-seconds': { type: 'string', default: '20' },
    'time-scale': { type: 'string', default: '1' },
  },
});

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

async function main(): Promise<void> {
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
