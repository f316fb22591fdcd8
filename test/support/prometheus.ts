import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { stringify } from 'yaml';
import { describeMissing } from './prerequisites.js';
import { freePort } from './redis-server.js';
import { waitFor } from './wait-for.js';

export interface PrometheusOptions {
  /** `host:port` of each endpoint to scrape at `/metrics`, in one job named `test`. */
  scrapeTargets: string[];
  /** Scrape (and evaluation) interval. Default 1 s. */
  scrapeIntervalSeconds?: number;
}

export interface TestPrometheus {
  /** `http://127.0.0.1:<port>`, the address the query API is under. */
  url: string;
  /** SIGTERM to its PID, SIGKILL after 5 s; removes its temp dir. Idempotent. */
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 5_000;

/**
 * Debian's `prometheus` (2.42) on 127.0.0.1 and a free port, its config and TSDB in a temp
 * directory, scraping `scrapeTargets`. Resolves once `/-/ready` answers 200; throws with the end
 * of its log when it does not within 15 s or exits first (e.g. not installed). Ready comes within
 * a few hundred ms, the first scrape about 5 s later (2.42's service discovery sends its first
 * targets after a fixed 5 s), then one every `scrapeIntervalSeconds`: start one per test file,
 * and wait for the data with `waitForScrapedValues`.
 */
export async function startPrometheus(options: PrometheusOptions): Promise<TestPrometheus> {
  const interval = `${options.scrapeIntervalSeconds ?? 1}s`;
  const dir = mkdtempSync(join(tmpdir(), 'cvm-prometheus-'));
  const configPath = join(dir, 'prometheus.yml');
  writeFileSync(
    configPath,
    stringify({
      global: {
        scrape_interval: interval,
        scrape_timeout: interval,
        evaluation_interval: interval,
      },
      scrape_configs: [{ job_name: 'test', static_configs: [{ targets: options.scrapeTargets }] }],
    }),
  );
  try {
    for (let attempt = 1; ; attempt++) {
      const launched = await launch(configPath, join(dir, 'data'));
      if ('url' in launched) {
        const removeDir = () => rmSync(dir, { recursive: true, force: true });
        return { url: launched.url, stop: () => launched.stop().finally(removeDir) };
      }
      if (attempt === 3) throw new Error(launched.portTaken);
    }
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/**
 * One start on a free port. The port is free when picked but may be taken before Prometheus
 * binds it: that comes back as `portTaken`, for the caller to try another.
 */
async function launch(
  configPath: string,
  dataPath: string,
): Promise<{ url: string; stop: () => Promise<void> } | { portTaken: string }> {
  const url = `http://127.0.0.1:${await freePort()}`;
  const proc = spawn(
    'prometheus',
    [
      `--config.file=${configPath}`,
      `--storage.tsdb.path=${dataPath}`,
      `--web.listen-address=${new URL(url).host}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  proc.stderr?.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-4000)));
  let spawnError: Error | undefined;
  proc.once('error', (error) => (spawnError = error));
  let stopped: Promise<void> | undefined;
  const stop = () => (stopped ??= stopProcess(proc));
  try {
    await waitFor(
      async () => {
        if (spawnError) throw new Error(`prometheus could not be started: ${spawnError.message}`);
        if (proc.exitCode !== null) throw new Error(`prometheus exited with ${proc.exitCode}`);
        return (await statusOf(`${url}/-/ready`)) === 200;
      },
      `prometheus on ${url} to be ready`,
      { timeoutMs: READY_TIMEOUT_MS },
    );
  } catch (error) {
    await stop();
    const message = `${(error as Error).message}\n${log}`;
    if (/address already in use/.test(log)) return { portTaken: message };
    throw new Error(message, { cause: error });
  }
  return { url, stop };
}

async function statusOf(url: string): Promise<number | undefined> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
    await response.body?.cancel();
    return response.status;
  } catch {
    return undefined; // not listening yet
  }
}

async function stopProcess(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null || proc.pid === undefined) return;
  const exited = once(proc, 'exit');
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

export interface MetricsEndpoint {
  /** `http://127.0.0.1:<port>/metrics`. */
  url: string;
  /** `127.0.0.1:<port>`, a scrape target for `startPrometheus`. */
  hostPort: string;
  /** Sets the gauge `name{labels}` to `value` (NaN and ±Infinity allowed) for the next scrapes. */
  set(name: string, value: number, labels?: Record<string, string>): void;
  stop(): Promise<void>;
}

/**
 * A local HTTP server on 127.0.0.1 serving, at `/metrics`, the gauges the test set, in the
 * Prometheus text exposition format: the test decides what Prometheus scrapes.
 */
export async function startMetricsEndpoint(): Promise<MetricsEndpoint> {
  const series = new Map<string, { name: string; labels: string; value: number }>();
  const server = createServer((request, response) => {
    if (request.url !== '/metrics') {
      response.writeHead(404).end();
      return;
    }
    const names = new Set([...series.values()].map((s) => s.name));
    const lines = [...names].flatMap((name) => [
      `# TYPE ${name} gauge`,
      ...[...series.values()]
        .filter((s) => s.name === name)
        .map((s) => `${s.name}${s.labels} ${exposition(s.value)}`),
    ]);
    response
      .writeHead(200, { 'content-type': 'text/plain; version=0.0.4' })
      .end(lines.map((l) => `${l}\n`).join(''));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const hostPort = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: `http://${hostPort}/metrics`,
    hostPort,
    set(name, value, labels = {}) {
      const rendered = Object.entries(labels)
        .map(
          ([k, v]) =>
            `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`,
        )
        .join(',');
      const labelText = rendered ? `{${rendered}}` : '';
      series.set(name + labelText, { name, labels: labelText, value });
    },
    async stop() {
      server.closeAllConnections();
      if (server.listening) await new Promise((resolve) => server.close(resolve));
    },
  };
}

function exposition(value: number): string {
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value); // NaN prints as NaN, as the format wants
}

/**
 * Polls Prometheus' query API (bounded, 15 s by default) until the instant query `query` returns
 * a vector whose sample values equal `expected`, in order (NaN equals NaN): the scrape has landed.
 */
export async function waitForScrapedValues(
  prometheusUrl: string,
  query: string,
  expected: number[],
  { timeoutMs = 15_000 }: { timeoutMs?: number } = {},
): Promise<void> {
  let last = 'nothing yet';
  try {
    await waitFor(
      async () => {
        const response = await fetch(
          `${prometheusUrl}/api/v1/query?${new URLSearchParams({ query }).toString()}`,
          { signal: AbortSignal.timeout(2000) },
        );
        const body = (await response.json()) as any;
        last = JSON.stringify(body?.data?.result ?? body);
        const values: number[] = (body?.data?.result ?? []).map((s: any) =>
          parseSample(s.value[1]),
        );
        return (
          values.length === expected.length && values.every((v, i) => Object.is(v, expected[i]))
        );
      },
      `${query} to return ${JSON.stringify(expected.map(String))}`,
      { timeoutMs, intervalMs: 100 },
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}; Prometheus last answered ${last}`, {
      cause: error,
    });
  }
}

function parseSample(text: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return Number(text);
}

/**
 * Throws the global setup's message when the machine lacks `prometheus`: a test that needs it
 * fails naming what is missing and how to get it, instead of an obscure spawn error or a skip.
 */
export function requirePrometheus(): void {
  const missing = inject('missingPrerequisites').filter((p) => p.key === 'prometheus');
  if (missing.length > 0) throw new Error(describeMissing(missing));
}

/** True when the machine has `prometheus`; a file's beforeAll starts nothing otherwise. */
export function prometheusInstalled(): boolean {
  return !inject('missingPrerequisites').some((p) => p.key === 'prometheus');
}
