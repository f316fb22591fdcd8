import type { MetricCheck, MetricChecks, MetricMeasurement } from '../workers/ports.js';
import { measureMetric } from './metric-check.js';
import { displayAddress, queryPrometheus } from './prometheus-client.js';

/** {@link MetricChecks} on Prometheus' HTTP API: each measurement one instant query. */
export class PrometheusMetricChecks implements MetricChecks {
  constructor(private readonly deps: { fetch?: typeof fetch } = {}) {}

  measure(check: MetricCheck): Promise<MetricMeasurement> {
    return measureMetric(check, this.deps.fetch ? { fetch: this.deps.fetch } : {});
  }

  /** One trivial query (`vector(1)`): whether Prometheus at `address` answers at all. */
  async probe(address: string, timeoutSeconds: number): Promise<string | undefined> {
    try {
      await queryPrometheus(address, 'vector(1)', {
        timeoutMs: timeoutSeconds * 1000,
        ...(this.deps.fetch ? { fetch: this.deps.fetch } : {}),
      });
      return undefined;
    } catch (error) {
      return error instanceof Error
        ? error.message
        : `Prometheus at ${displayAddress(address)} failed`;
    }
  }
}
