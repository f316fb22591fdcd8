import { describe, expect, it } from 'vitest';
import { redisTargetFor } from '../../src/cli/run-roles.js';
import { describeConfig, loadConfig } from '../../src/config/config.js';
import { redisOptionsFor } from '../../src/queue/connections.js';

const base = { connectTimeoutMs: 700, name: 'cvm-test' };
const pick = (options: object, keys: string[]) =>
  Object.fromEntries(Object.entries(options).filter(([k]) => keys.includes(k)));
const shape = [
  'host',
  'port',
  'username',
  'password',
  'db',
  'tls',
  'sentinels',
  'name',
  'role',
  'sentinelPassword',
  'enableTLSForSentinelMode',
  'sentinelTLS',
  'failoverDetector',
];

describe('redisOptionsFor: how a connection reaches Redis', () => {
  it.each([
    [
      'a plain URL: its host and port',
      { url: 'redis://redis.cvm:6380' },
      { host: 'redis.cvm', port: 6380 },
    ],
    [
      'user, password and db from the URL',
      { url: 'redis://cvm:p%40ss@10.0.0.5/3' },
      { host: '10.0.0.5', port: 6379, username: 'cvm', password: 'p@ss', db: 3 },
    ],
    [
      'CVM_REDIS_PASSWORD overrides the URL password',
      { url: 'redis://:old@redis:6379', password: 'new-secret' },
      { host: 'redis', port: 6379, password: 'new-secret' },
    ],
    [
      'rediss:// is TLS, with a private CA when one is given',
      { url: 'rediss://redis:6379', tlsCaPem: 'PEM' },
      { host: 'redis', port: 6379, tls: { ca: 'PEM' } },
    ],
    [
      'Sentinel: the sentinels and the master name, the URL only for credentials',
      {
        url: 'redis://:data-pass@ignored:1/2',
        sentinel: { sentinels: ['s1:26379', '[::1]:26380'], masterName: 'cvm', password: 'sp' },
      },
      {
        password: 'data-pass',
        db: 2,
        sentinels: [
          { host: 's1', port: 26379 },
          { host: '::1', port: 26380 },
        ],
        name: 'cvm',
        role: 'master',
        sentinelPassword: 'sp',
        failoverDetector: true,
      },
    ],
    [
      'Sentinel over TLS: both the primary and the sentinels',
      {
        url: 'rediss://x',
        sentinel: { sentinels: ['s1:26379'], masterName: 'mymaster' },
        tlsCaPem: 'PEM',
      },
      {
        tls: { ca: 'PEM' },
        sentinels: [{ host: 's1', port: 26379 }],
        name: 'mymaster',
        role: 'master',
        enableTLSForSentinelMode: true,
        sentinelTLS: { ca: 'PEM' },
        failoverDetector: true,
      },
    ],
  ])('%s', (_, target, expected) => {
    const options = redisOptionsFor({ ...base, ...target });
    expect(pick(options, shape)).toEqual(expected);
    expect(options).toMatchObject({
      connectionName: 'cvm-test',
      connectTimeout: 700,
      enableReadyCheck: true,
    });
  });

  it('reconnects to the new primary on READONLY (a demoted primary still answering)', () => {
    const { reconnectOnError } = redisOptionsFor({ ...base, url: 'redis://r' });
    expect(
      reconnectOnError?.(new Error('READONLY You cannot write against a read only replica.')),
    ).toBe(true);
    expect(reconnectOnError?.(new Error('ERR wrong number of arguments'))).toBe(false);
  });
});

describe('the Redis configuration keys', () => {
  it('builds the Sentinel target from CVM_REDIS_SENTINELS and friends, reading the CA file', () => {
    const config = loadConfig({
      CVM_REDIS_URL: 'rediss://redis',
      CVM_REDIS_PASSWORD: 'data-pass',
      CVM_REDIS_SENTINELS: ' s1:26379, s2 ,10.0.0.3:5000',
      CVM_REDIS_SENTINEL_MASTER: 'cvm-primary',
      CVM_REDIS_SENTINEL_PASSWORD: 'sentinel-pass',
      CVM_REDIS_TLS_CA_FILE: '/etc/cvm/redis-ca.pem',
      CVM_REDIS_INTAKE_REPLICAS: '1',
    });
    expect(config.redisIntakeReplicas).toBe(1);
    expect(redisTargetFor(config, (path) => `pem of ${path}`)).toEqual({
      url: 'rediss://redis',
      connectTimeoutMs: 2000,
      password: 'data-pass',
      tlsCaPem: 'pem of /etc/cvm/redis-ca.pem',
      sentinel: {
        sentinels: ['s1:26379', 's2:26379', '10.0.0.3:5000'],
        masterName: 'cvm-primary',
        password: 'sentinel-pass',
      },
    });
  });

  it('without sentinels there is no Sentinel target and no CA is read', () => {
    const target = redisTargetFor(loadConfig({}), () => {
      throw new Error('read');
    });
    expect(target.sentinel).toBeUndefined();
    expect(target.tlsCaPem).toBeUndefined();
  });

  it.each(['s1:port', 's1:70000', 'a b:1', ':26379'])(
    'rejects the sentinel list %j, naming the bad item',
    (value) => {
      expect(() => loadConfig({ CVM_REDIS_SENTINELS: value })).toThrow(/CVM_REDIS_SENTINELS: "/);
    },
  );

  it('masks both Redis passwords', () => {
    const entries = describeConfig(
      loadConfig({ CVM_REDIS_PASSWORD: 'data-pass', CVM_REDIS_SENTINEL_PASSWORD: 'sp' }),
    );
    expect(entries.find((e) => e.env === 'CVM_REDIS_PASSWORD')?.value).toBe('********');
    expect(entries.find((e) => e.env === 'CVM_REDIS_SENTINEL_PASSWORD')?.value).toBe('********');
  });
});
