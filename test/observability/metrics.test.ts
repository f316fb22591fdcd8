import { describe, expect, it } from 'vitest';
import { Metrics } from '../../src/observability/metrics.js';

const sample = (text: string, name: string) =>
  text.split('\n').find((l) => l.startsWith(`${name} `));

describe('Metrics', () => {
  it("serves Node's process metrics beside cvm's own, the event-loop lag sampled once it has run", async () => {
    const metrics = new Metrics();
    // Busy the loop a little so the lag histogram has samples (it samples every 100 ms).
    const until = Date.now() + 350;
    while (Date.now() < until) await new Promise((r) => setTimeout(r, 5));
    const text = await metrics.registry.metrics();
    for (const name of [
      'process_resident_memory_bytes',
      'nodejs_heap_size_used_bytes',
      'nodejs_eventloop_lag_p99_seconds',
    ])
      expect(sample(text, name), name).toMatch(/ \d/);
    expect(Number(sample(text, 'nodejs_eventloop_lag_max_seconds')!.split(' ')[1])).toBeGreaterThan(
      0,
    );
    expect(text).toContain('# TYPE cvm_webhook_requests_total counter');
  });

  it('leaves out the process metrics when told to', async () => {
    const text = await new Metrics({ defaultMetrics: false }).registry.metrics();
    expect(text).not.toContain('nodejs_heap_size_used_bytes');
    expect(text).toContain('# TYPE cvm_webhook_requests_total counter');
  });
});
