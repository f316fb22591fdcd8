import { describe, expect, it } from 'vitest';
import { parseChallenge } from '../../src/registry/www-authenticate.js';

describe('parseChallenge', () => {
  it.each([
    [
      'Docker Hub bearer with a comma inside the quoted scope',
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:samalba/my-app:pull,push"',
      {
        scheme: 'bearer',
        params: {
          realm: 'https://auth.docker.io/token',
          service: 'registry.docker.io',
          scope: 'repository:samalba/my-app:pull,push',
        },
      },
    ],
    [
      'Basic (ECR, htpasswd)',
      'Basic realm="Basic Realm"',
      { scheme: 'basic', params: { realm: 'Basic Realm' } },
    ],
    [
      'spaces, unquoted values and upper-case names',
      'bearer  Realm=https://r/token , Service = reg',
      { scheme: 'bearer', params: { realm: 'https://r/token', service: 'reg' } },
    ],
    ['escaped quote', 'Bearer realm="a\\"b"', { scheme: 'bearer', params: { realm: 'a"b' } }],
    ['scheme only', 'Basic', { scheme: 'basic', params: {} }],
    [
      'two challenges: the first is taken',
      'Bearer realm="r1", Basic realm="r2"',
      { scheme: 'bearer', params: { realm: 'r1' } },
    ],
    [
      'unterminated quote keeps the rest',
      'Bearer realm="abc',
      { scheme: 'bearer', params: { realm: 'abc' } },
    ],
  ])('%s', (_what, header, expected) => {
    expect(parseChallenge(header)).toEqual(expected);
  });

  it.each([[undefined], [null], [''], ['   '], ['"quoted"']])('%j has no challenge', (header) => {
    expect(parseChallenge(header)).toBeNull();
  });
});
