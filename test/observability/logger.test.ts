import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/observability/logger.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString().split('\n').filter(Boolean))
        lines.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  return { lines, destination };
}

describe('createLogger', () => {
  it('writes JSON with the constant message and fields', () => {
    const { lines, destination } = capture();
    createLogger({ level: 'info', destination })
      .child({ component: 'receiver' })
      .info({ cv: 'shop/api' }, 'workload patched');
    expect(lines).toEqual([
      expect.objectContaining({
        level: 30,
        name: 'cvm',
        component: 'receiver',
        cv: 'shop/api',
        msg: 'workload patched',
      }),
    ]);
    expect(lines[0]?.time).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it('redacts secrets in headers, configs and credentials', () => {
    const { lines, destination } = capture();
    const log = createLogger({ level: 'info', destination });
    log.info(
      {
        req: {
          headers: { authorization: 'Bearer s3cret', cookie: 'sid=abc', 'user-agent': 'curl' },
        },
        config: { opsToken: 'token-value-1234567', queuePrefix: 'cvm' },
        registry: { password: 'p4ss', username: 'bot' },
        source: { secret: 'hmac-key' },
        token: 'top',
      },
      'request',
    );
    const text = JSON.stringify(lines);
    for (const secret of ['s3cret', 'sid=abc', 'token-value-1234567', 'p4ss', 'hmac-key', '"top"'])
      expect(text).not.toContain(secret);
    expect(lines[0]).toMatchObject({
      req: { headers: { 'user-agent': 'curl' } },
      registry: { username: 'bot', password: '[Redacted]' },
    });
  });

  it('drops lines below the level', () => {
    const { lines, destination } = capture();
    const log = createLogger({ level: 'warn', destination });
    log.info('quiet');
    log.warn('loud');
    expect(lines.map((l) => l.msg)).toEqual(['loud']);
  });
});
