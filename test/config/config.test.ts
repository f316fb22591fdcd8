import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIG_KEYS, ConfigError, describeConfig, loadConfig } from '../../src/config/config.js';

describe('loadConfig', () => {
  it('gives the documented defaults for an empty environment', () => {
    expect({ ...loadConfig({}) }).toEqual({
      redisUrl: 'redis://127.0.0.1:6379',
      redisConnectTimeoutMs: 2000,
      redisPassword: undefined,
      redisTlsCaFile: undefined,
      redisSentinels: [],
      redisSentinelMaster: 'mymaster',
      redisSentinelPassword: undefined,
      redisIntakeReplicas: 0,
      queuePrefix: 'cvm',
      webhookPort: 8080,
      opsPort: 8081,
      listenHost: '0.0.0.0',
      opsToken: undefined,
      adminToken: undefined,
      webhookBodyLimitBytes: 1048576,
      maxEventsPerDelivery: 1000,
      ecrApiKeys: [],
      ecrApiKeyHeader: 'x-api-key',
      dockerhubTokens: [],
      quayTokens: [],
      ghcrSecrets: [],
      harborTokens: [],
      acrTokens: [],
      garTokens: [],
      garOidcAudience: undefined,
      garOidcEmails: [],
      garOidcIssuer: ['https://accounts.google.com'],
      garOidcJwksUrl: undefined,
      distributionTokens: [],
      genericSecrets: [],
      sqsQueueUrl: undefined,
      sqsEndpoint: undefined,
      sqsWaitSeconds: 20,
      sqsVisibilityTimeoutSeconds: 60,
      rolloutConcurrency: 16,
      routeConcurrency: 8,
      jobLockMs: 15000,
      stalledCheckMs: 5000,
      rolloutAttempts: 10,
      rolloutBackoffMs: 2000,
      rolloutRecheckMs: 10000,
      kubeRequestTimeoutMs: 10000,
      pollTickMs: 1000,
      recheckSeconds: 60,
      pollMaxPerTick: 20,
      driftCheckSeconds: 30,
      leaseNamespace: 'default',
      leaseDurationSeconds: 15,
      registryAuthFile: undefined,
      cosignPublicKeyFile: undefined,
      dashboardUrl: undefined,
      notifySlackUrl: undefined,
      notifyTeamsUrl: undefined,
      notifyWebhookUrl: undefined,
      notifyWebhookSecret: undefined,
      notifyEvents: ['started', 'succeeded', 'failed', 'rolled-back', 'blocked'],
      notifyTimeoutMs: 10000,
      notifyAttempts: 15,
      notifyBackoffMs: 2000,
      notifyConcurrency: 8,
      ecrEndpoint: undefined,
      kubeconfig: undefined,
      logLevel: 'info',
      shutdownTimeoutMs: 25000,
    });
  });

  it('refuses an admin token equal to the ops token, naming CVM_ADMIN_TOKEN', () => {
    const same = 'the-same-token-0123456789';
    expect(() => loadConfig({ CVM_OPS_TOKEN: same, CVM_ADMIN_TOKEN: same })).toThrow(
      /CVM_ADMIN_TOKEN: must differ from CVM_OPS_TOKEN/,
    );
    expect(() => loadConfig({ CVM_ADMIN_TOKEN: 'short' })).toThrow(
      /CVM_ADMIN_TOKEN: must be at least 16 characters/,
    );
    expect(loadConfig({ CVM_OPS_TOKEN: same, CVM_ADMIN_TOKEN: `${same}-admin` }).adminToken).toBe(
      `${same}-admin`,
    );
  });

  it('notifications: a generic webhook needs its secret, events are checked by name, sink URLs are masked', () => {
    expect(() => loadConfig({ CVM_NOTIFY_WEBHOOK_URL: 'https://hooks.example.com/cvm' })).toThrow(
      /CVM_NOTIFY_WEBHOOK_SECRET: required with CVM_NOTIFY_WEBHOOK_URL/,
    );
    expect(() => loadConfig({ CVM_NOTIFY_EVENTS: 'started,exploded' })).toThrow(
      /CVM_NOTIFY_EVENTS: each event must be one of started, succeeded, failed, rolled-back, blocked/,
    );
    expect(() => loadConfig({ CVM_NOTIFY_SLACK_URL: 'ftp://x' })).toThrow(
      /CVM_NOTIFY_SLACK_URL: must be an http/,
    );
    const config = loadConfig({
      CVM_NOTIFY_SLACK_URL: 'https://hooks.slack.com/services/T0/B0/secretpart',
      CVM_NOTIFY_EVENTS: ' failed , blocked ',
    });
    expect(config.notifyEvents).toEqual(['failed', 'blocked']);
    const shown = describeConfig(config).find((e) => e.env === 'CVM_NOTIFY_SLACK_URL');
    expect(shown?.value).toBe('********');
  });

  it('reads CVM_* variables and converts numbers', () => {
    const config = loadConfig({
      CVM_WEBHOOK_PORT: '9000',
      CVM_QUEUE_PREFIX: '{cvm-test}',
      CVM_KUBECONFIG: '/tmp/kc',
      PATH: '/bin',
    });
    expect(config).toMatchObject({
      webhookPort: 9000,
      queuePrefix: '{cvm-test}',
      kubeconfig: '/tmp/kc',
    });
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ CVM_OPS_PORT: '' }).opsPort).toBe(8081);
  });

  it('is frozen', () => {
    const config = loadConfig({});
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('names every bad key in one error', () => {
    const env = {
      CVM_REDIS_URL: 'http://127.0.0.1:6379',
      CVM_OPS_PORT: '70000',
      CVM_WEBHOOK_PORT: 'eighty',
      CVM_LOG_LEVEL: 'loud',
      CVM_OPS_TOKEN: 'short',
      CVM_REDIS_URI: 'redis://x',
    };
    let error: unknown;
    try {
      loadConfig(env);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const { problems, message } = error as ConfigError;
    expect(problems.map((p) => p.split(':')[0])).toEqual([
      'CVM_REDIS_URL',
      'CVM_WEBHOOK_PORT',
      'CVM_OPS_PORT',
      'CVM_OPS_TOKEN',
      'CVM_LOG_LEVEL',
      'CVM_REDIS_URI',
    ]);
    expect(message).toContain('CVM_OPS_PORT: must be between 1 and 65535 (got "70000")');
    expect(message).toContain('CVM_REDIS_URI: unknown key');
  });

  it('never shows a secret value in the error', () => {
    expect(() => loadConfig({ CVM_OPS_TOKEN: 'hunter2' })).toThrow(
      /CVM_OPS_TOKEN: must be at least 16 characters/,
    );
    expect(() => loadConfig({ CVM_OPS_TOKEN: 'hunter2' })).not.toThrow(/hunter2/);
  });

  it('reads comma-separated secrets for rotation and rejects short ones without echoing them', () => {
    expect(
      loadConfig({ CVM_GHCR_SECRETS: ' aaaaaaaaaaaaaaaa , bbbbbbbbbbbbbbbb ' }).ghcrSecrets,
    ).toEqual(['aaaaaaaaaaaaaaaa', 'bbbbbbbbbbbbbbbb']);
    expect(() => loadConfig({ CVM_GHCR_SECRETS: 'aaaaaaaaaaaaaaaa,tiny' })).toThrow(
      /^invalid configuration: CVM_GHCR_SECRETS: every secret must be at least 16 characters$/,
    );
  });
});

describe('describeConfig', () => {
  it('masks the ops token and the Redis password, and documents every key', () => {
    const config = loadConfig({
      CVM_OPS_TOKEN: 'a-very-long-secret-token',
      CVM_REDIS_URL: 'redis://:p4ss@redis:6379/2',
    });
    const entries = describeConfig(config);
    expect(entries.find((e) => e.env === 'CVM_OPS_TOKEN')?.value).toBe('********');
    expect(entries.find((e) => e.env === 'CVM_REDIS_URL')?.value).toBe(
      'redis://:********@redis:6379/2',
    );
    for (const entry of entries) {
      expect(entry.description.length, entry.env).toBeGreaterThan(10);
      expect(entry.unit.length, entry.env).toBeGreaterThan(0);
    }
  });
});

describe('README', () => {
  it('lists every configuration key with its default', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    for (const spec of Object.values(CONFIG_KEYS)) {
      const row = readme.split('\n').find((line) => line.startsWith(`| \`${spec.env}\``));
      expect(row, `README row for ${spec.env}`).toBeDefined();
      expect(row).toContain(spec.default === undefined ? '(unset)' : `\`${spec.default}\``);
    }
  });
});
