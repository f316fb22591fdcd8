// Benchmarks "ingest" (DESIGN §9, issue 16): requests per second of a compiled `cvm receiver`
// pinned to one core, for signed generic webhooks and for Docker Hub webhooks, each request a
// distinct event, against a bare express 5 JSON echo server pinned to the same core under the same
// load. The load generator (autocannon) runs on the other core. Runs alternate (echo, generic,
// Docker Hub, three times); the figures are medians. Afterwards the jobs in Redis are counted: one
// per 202, or events were lost.
import { randomUUID } from 'node:crypto';
import {
  cpuMs,
  DOCKERHUB_TOKEN,
  GENERIC_SECRET,
  dropPrefix,
  ensureBuilt,
  jobsOf,
  median,
  runLoad,
  startEchoServer,
  startReceiver,
  type ServerProcess,
} from './ingest-support.js';
import type { LoadResult, LoadSpec } from './ingest-load.js';

export interface IngestOptions {
  /** Seconds of each measured run; default 4. */
  runSeconds?: number;
  /** Measured runs of each server; default 3. */
  runs?: number;
  /** Concurrent connections of the load generator; default 50. */
  connections?: number;
}

/** One route's runs. */
export interface RouteResult {
  rps: number;
  p99Ms: number;
  p50Ms: number;
  /** Responses other than 202. */
  refused: number;
  accepted: number;
  /** Jobs the runs added to Redis; equal to `accepted` when nothing was lost. */
  jobs: number;
  errors: number;
  /** CPU time of the server per request, µs (median of the runs). */
  cpuUsPerRequest: number;
}

export interface IngestResult {
  connections: number;
  runSeconds: number;
  runs: number;
  echo: { rps: number; p99Ms: number; p50Ms: number; cpuUsPerRequest: number };
  generic: RouteResult;
  dockerhub: RouteResult;
}

type Route = 'generic' | 'dockerhub';

/** Measures both routes and the baseline, alternating; see the module comment. */
export async function ingest(options: IngestOptions = {}): Promise<IngestResult> {
  const runSeconds = options.runSeconds ?? 4;
  const runs = options.runs ?? 3;
  const connections = options.connections ?? 50;
  ensureBuilt();
  const prefix = `bench-ingest-${randomUUID().slice(0, 8)}`;
  const servers: ServerProcess[] = [];
  try {
    const receiver = await startReceiver(prefix);
    servers.push(receiver);
    const echo = await startEchoServer();
    servers.push(echo);
    const spec = (server: ServerProcess, route: Route, amount?: number): LoadSpec => ({
      origin: `http://127.0.0.1:${server.port}`,
      route,
      secret: route === 'generic' ? GENERIC_SECRET : DOCKERHUB_TOKEN,
      connections,
      durationSeconds: 1,
      ...(amount !== undefined ? { amount } : {}),
    });
    // Warm-up (JIT, connections) of one second each; its rate sets how many requests a measured
    // run sends (about `runSeconds` worth). A run sends a fixed number of requests rather than
    // for a fixed time, so that every request sent is answered and counted before jobs are.
    const amountOf = (load: LoadResult) => Math.max(500, Math.round(load.rps * runSeconds));
    const amounts = {
      echo: amountOf(await runLoad(spec(echo, 'generic'))),
      generic: amountOf(await runLoad(spec(receiver, 'generic'))),
      dockerhub: amountOf(await runLoad(spec(receiver, 'dockerhub'))),
    };
    const measured = async (server: ServerProcess, route: Route, amount: number) => {
      const cpuBefore = cpuMs(server.proc.pid!);
      const load = await runLoad(spec(server, route, amount));
      return { load, cpuUs: ((cpuMs(server.proc.pid!) - cpuBefore) * 1000) / load.requests };
    };

    const echoRuns: { load: LoadResult; cpuUs: number }[] = [];
    const routeRuns: Record<Route, { load: LoadResult; jobs: number; cpuUs: number }[]> = {
      generic: [],
      dockerhub: [],
    };
    let jobsBefore = await jobsOf(prefix);
    for (let i = 0; i < runs; i++) {
      echoRuns.push(await measured(echo, 'generic', amounts.echo));
      for (const route of ['generic', 'dockerhub'] as const) {
        const run = await measured(receiver, route, amounts[route]);
        const jobsAfter = await jobsOf(prefix);
        routeRuns[route].push({ ...run, jobs: jobsAfter - jobsBefore });
        jobsBefore = jobsAfter;
      }
    }
    const summary = (route: Route): RouteResult => {
      const all = routeRuns[route];
      const sum = (f: (r: { load: LoadResult; jobs: number }) => number) =>
        all.reduce((a, r) => a + f(r), 0);
      const accepted = sum((r) => r.load.statuses['202'] ?? 0);
      return {
        rps: median(all.map((r) => r.load.rps)),
        p99Ms: median(all.map((r) => r.load.p99Ms)),
        p50Ms: median(all.map((r) => r.load.p50Ms)),
        accepted,
        refused: sum((r) => r.load.requests) - accepted,
        jobs: sum((r) => r.jobs),
        errors: sum((r) => r.load.errors + r.load.timeouts),
        cpuUsPerRequest: median(all.map((r) => r.cpuUs)),
      };
    };
    return {
      connections,
      runSeconds,
      runs,
      echo: {
        rps: median(echoRuns.map((r) => r.load.rps)),
        p99Ms: median(echoRuns.map((r) => r.load.p99Ms)),
        p50Ms: median(echoRuns.map((r) => r.load.p50Ms)),
        cpuUsPerRequest: median(echoRuns.map((r) => r.cpuUs)),
      },
      generic: summary('generic'),
      dockerhub: summary('dockerhub'),
    };
  } finally {
    for (const server of servers.reverse()) await server.stop();
    await dropPrefix(prefix).catch(() => undefined);
  }
}
