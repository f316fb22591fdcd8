import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  dockerConfigFileLookup,
  dockerConfigLookup,
  normalizeRegistryHost,
  parseDockerConfigJson,
} from '../../src/registry/docker-config.js';

const b64 = (text: string) => Buffer.from(text).toString('base64');
const secret = (auths: unknown) => b64(JSON.stringify({ auths }));

describe('normalizeRegistryHost', () => {
  it.each([
    ['https://index.docker.io/v1/', 'docker.io'],
    ['index.docker.io', 'docker.io'],
    ['registry-1.docker.io', 'docker.io'],
    ['docker.io', 'docker.io'],
    ['https://ghcr.io', 'ghcr.io'],
    ['GHCR.io', 'ghcr.io'],
    ['http://127.0.0.1:5000/v2/', '127.0.0.1:5000'],
    [
      '123456789012.dkr.ecr.eu-west-1.amazonaws.com',
      '123456789012.dkr.ecr.eu-west-1.amazonaws.com',
    ],
  ])('%s → %s', (key, host) => {
    expect(normalizeRegistryHost(key)).toBe(host);
  });
});

describe('dockerConfigLookup', () => {
  it.each([
    [
      'username and password',
      { 'ghcr.io': { username: 'bot', password: 'pat' } },
      'ghcr.io',
      { username: 'bot', password: 'pat' },
    ],
    [
      'auth = base64(user:pass), password with a colon',
      { 'https://index.docker.io/v1/': { auth: b64('alice:pa:ss') } },
      'docker.io',
      { username: 'alice', password: 'pa:ss' },
    ],
    [
      'lookup by the API host name of Docker Hub',
      { 'https://index.docker.io/v1/': { auth: b64('alice:x') } },
      'registry-1.docker.io',
      { username: 'alice', password: 'x' },
    ],
    [
      'username/password win over auth',
      { 'quay.io': { username: 'u', password: 'p', auth: b64('other:o') } },
      'quay.io',
      { username: 'u', password: 'p' },
    ],
    ['an unknown host', { 'ghcr.io': { username: 'bot', password: 'pat' } }, 'quay.io', undefined],
    ['empty auths', {}, 'ghcr.io', undefined],
  ])('%s', (_what, auths, host, expected) => {
    expect(dockerConfigLookup([secret(auths)])(host)).toEqual(expected);
  });

  it('the first Secret naming a host wins', () => {
    const lookup = dockerConfigLookup([
      secret({ 'ghcr.io': { username: 'first', password: '1' } }),
      secret({
        'ghcr.io': { username: 'second', password: '2' },
        'quay.io': { username: 'q', password: 'q' },
      }),
    ]);
    expect(lookup('ghcr.io')).toEqual({ username: 'first', password: '1' });
    expect(lookup('quay.io')).toEqual({ username: 'q', password: 'q' });
  });

  it.each([
    ['not JSON', b64('{nope'), /^\.dockerconfigjson is not JSON/],
    ['an array', b64('[]'), /^\.dockerconfigjson must be a JSON object$/],
    ['no auths', b64('{}'), /^\.dockerconfigjson\.auths must be an object$/],
    [
      'an entry that is a string',
      secret({ 'ghcr.io': 'x' }),
      /^\.dockerconfigjson\.auths\["ghcr\.io"\] must be an object$/,
    ],
    [
      'an entry without credentials',
      secret({ 'ghcr.io': {} }),
      /^\.dockerconfigjson\.auths\["ghcr\.io"\] needs "username" and "password", or "auth"$/,
    ],
    [
      'auth not a string',
      secret({ 'ghcr.io': { auth: 5 } }),
      /auths\["ghcr\.io"\]\.auth must be a base64 string$/,
    ],
    [
      'auth without a colon',
      secret({ 'ghcr.io': { auth: b64('nocolon') } }),
      /auths\["ghcr\.io"\]\.auth must be base64 of "username:password"$/,
    ],
    [
      'auth not base64',
      secret({ 'ghcr.io': { auth: '!!!' } }),
      /auths\["ghcr\.io"\]\.auth must be base64/,
    ],
    ['an empty key', secret({ '': { username: 'a', password: 'b' } }), /empty registry key ""/],
  ])('%s is rejected naming the field', (_what, data, message) => {
    expect(() => dockerConfigLookup([data])).toThrow(message);
  });

  it('names which Secret is bad when there are several', () => {
    expect(() => dockerConfigLookup([secret({}), b64('{')])).toThrow(
      /^secret 2: \.dockerconfigjson is not JSON/,
    );
  });

  it('parseDockerConfigJson keys credentials by normalized host', () => {
    expect([
      ...parseDockerConfigJson(
        JSON.stringify({ auths: { 'https://GHCR.io/': { auth: b64('a:b') } } }),
      ),
    ]).toEqual([['ghcr.io', { username: 'a', password: 'b' }]]);
  });
});

describe('dockerConfigFileLookup (the Docker CLI config file)', () => {
  const write = (config: unknown) => {
    const dir = mkdtempSync(join(tmpdir(), 'cvm-docker-config-'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
    return dir;
  };
  const asked: string[] = [];
  const runHelper = (helper: string, server: string) => {
    asked.push(`${helper} ${server}`);
    return server === 'nothing.example.com'
      ? null
      : JSON.stringify({ ServerURL: server, Username: `${helper}-user`, Secret: 's' });
  };

  it('credHelpers first, then auths, then credsStore; empty auths entries are skipped; helpers asked once per host', () => {
    const dir = write({
      auths: { 'ghcr.io': { auth: b64('bot:pat') }, 'quay.io': {} },
      credHelpers: { '123456789012.dkr.ecr.eu-west-1.amazonaws.com': 'ecr-login' },
      credsStore: 'desktop',
    });
    const lookup = dockerConfigFileLookup({ env: { DOCKER_CONFIG: dir }, runHelper });
    expect(lookup('ghcr.io')).toEqual({ username: 'bot', password: 'pat' });
    expect(lookup('123456789012.dkr.ecr.eu-west-1.amazonaws.com')).toEqual({
      username: 'ecr-login-user',
      password: 's',
    });
    expect(lookup('quay.io')).toEqual({ username: 'desktop-user', password: 's' });
    expect(lookup('docker.io')).toEqual({ username: 'desktop-user', password: 's' });
    expect(lookup('nothing.example.com')).toBeUndefined();
    lookup('quay.io');
    expect(asked).toEqual([
      'ecr-login 123456789012.dkr.ecr.eu-west-1.amazonaws.com',
      'desktop quay.io',
      'desktop https://index.docker.io/v1/',
      'desktop nothing.example.com',
    ]);
  });

  it('no file at the default place means no credentials; a named file that is missing or bad names the problem', () => {
    const empty = mkdtempSync(join(tmpdir(), 'cvm-docker-config-'));
    expect(dockerConfigFileLookup({ env: { DOCKER_CONFIG: empty } })('ghcr.io')).toBeUndefined();
    expect(() => dockerConfigFileLookup({ path: join(empty, 'nope.json') })).toThrow(
      /nope\.json cannot be read/,
    );
    const bad = write({ credHelpers: { 'ghcr.io': 7 } });
    expect(() => dockerConfigFileLookup({ env: { DOCKER_CONFIG: bad } })).toThrow(
      /credHelpers\["ghcr.io"\] must be a name/,
    );
    const badAuth = write({ auths: { 'ghcr.io': { auth: 'not base64!' } } });
    expect(() => dockerConfigFileLookup({ env: { DOCKER_CONFIG: badAuth } })).toThrow(
      /auths\["ghcr.io"\]\.auth must be base64/,
    );
  });
});
