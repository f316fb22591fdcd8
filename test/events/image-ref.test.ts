import { describe, expect, it } from 'vitest';
import {
  familiarImageRef,
  formatImageRef,
  InvalidImageRefError,
  isDigest,
  parseImageRef,
  parseRepository,
  repositoryKey,
  tryParseImageRef,
  withDefaultTag,
  type ImageRef,
} from '../../src/events/image-ref.js';

const SHA256 = `sha256:${'a1b2c3d4'.repeat(8)}`;
const SHA512 = `sha512:${'0f'.repeat(64)}`;
const ECR = '123456789012.dkr.ecr.us-east-1.amazonaws.com';

interface Valid {
  input: string;
  ref: ImageRef;
  familiar: string;
}

const hub = (repository: string, extra: Partial<ImageRef> = {}): ImageRef => ({
  registry: 'docker.io',
  repository,
  ...extra,
});

const valid: Valid[] = [
  { input: 'nginx', ref: hub('library/nginx'), familiar: 'nginx' },
  { input: 'nginx:1.25', ref: hub('library/nginx', { tag: '1.25' }), familiar: 'nginx:1.25' },
  { input: 'user/app', ref: hub('user/app'), familiar: 'user/app' },
  { input: 'library/nginx', ref: hub('library/nginx'), familiar: 'nginx' },
  { input: 'docker.io/nginx', ref: hub('library/nginx'), familiar: 'nginx' },
  {
    input: 'docker.io/library/nginx:latest',
    ref: hub('library/nginx', { tag: 'latest' }),
    familiar: 'nginx:latest',
  },
  { input: 'index.docker.io/user/app', ref: hub('user/app'), familiar: 'user/app' },
  { input: 'index.docker.io/nginx', ref: hub('library/nginx'), familiar: 'nginx' },
  { input: 'registry-1.docker.io/library/nginx', ref: hub('library/nginx'), familiar: 'nginx' },
  { input: 'registry-1.docker.io/nginx', ref: hub('library/nginx'), familiar: 'nginx' },
  // A bare "localhost" has no "/", so Docker reads it as an official image, not a host.
  { input: 'localhost', ref: hub('library/localhost'), familiar: 'localhost' },
  {
    input: 'localhost/app',
    ref: { registry: 'localhost', repository: 'app' },
    familiar: 'localhost/app',
  },
  {
    input: 'localhost:5000/a',
    ref: { registry: 'localhost:5000', repository: 'a' },
    familiar: 'localhost:5000/a',
  },
  // Without a "/", "host:port" is a repository with a tag.
  { input: 'x:5000', ref: hub('library/x', { tag: '5000' }), familiar: 'x:5000' },
  {
    input: 'localhost:5000',
    ref: hub('library/localhost', { tag: '5000' }),
    familiar: 'localhost:5000',
  },
  {
    input: '127.0.0.1:5000/x:1',
    ref: { registry: '127.0.0.1:5000', repository: 'x', tag: '1' },
    familiar: '127.0.0.1:5000/x:1',
  },
  {
    input: '[::1]:5000/x',
    ref: { registry: '[::1]:5000', repository: 'x' },
    familiar: '[::1]:5000/x',
  },
  { input: '[::1]/x', ref: { registry: '[::1]', repository: 'x' }, familiar: '[::1]/x' },
  {
    input: '[2001:db8::1]:5000/team/app:v2',
    ref: { registry: '[2001:db8::1]:5000', repository: 'team/app', tag: 'v2' },
    familiar: '[2001:db8::1]:5000/team/app:v2',
  },
  {
    input: `${ECR}/shop/api:prod`,
    ref: { registry: ECR, repository: 'shop/api', tag: 'prod' },
    familiar: `${ECR}/shop/api:prod`,
  },
  {
    input: 'ghcr.io/acme/web:sha-0a1b2c3',
    ref: { registry: 'ghcr.io', repository: 'acme/web', tag: 'sha-0a1b2c3' },
    familiar: 'ghcr.io/acme/web:sha-0a1b2c3',
  },
  {
    input: `quay.io/org/app@${SHA256}`,
    ref: { registry: 'quay.io', repository: 'org/app', digest: SHA256 },
    familiar: `quay.io/org/app@${SHA256}`,
  },
  { input: 'a/b/c/d', ref: hub('a/b/c/d'), familiar: 'a/b/c/d' },
  // Only a single-level library/ name is shortened.
  { input: 'library/a/b', ref: hub('library/a/b'), familiar: 'library/a/b' },
  {
    input: `host:5000/repo:tag@${SHA256}`,
    ref: { registry: 'host:5000', repository: 'repo', tag: 'tag', digest: SHA256 },
    familiar: `host:5000/repo:tag@${SHA256}`,
  },
  {
    input: `nginx@${SHA256}`,
    ref: hub('library/nginx', { digest: SHA256 }),
    familiar: `nginx@${SHA256}`,
  },
  {
    input: `nginx:1.25@${SHA256}`,
    ref: hub('library/nginx', { tag: '1.25', digest: SHA256 }),
    familiar: `nginx:1.25@${SHA256}`,
  },
  {
    input: `nginx@${SHA512}`,
    ref: hub('library/nginx', { digest: SHA512 }),
    familiar: `nginx@${SHA512}`,
  },
  // Docker reads "sha256:<hex>" without "@" as repository "sha256" with a 64-character tag.
  {
    input: SHA256,
    ref: hub('library/sha256', { tag: SHA256.slice('sha256:'.length) }),
    familiar: SHA256,
  },
  // Docker allows upper case in the registry host and keeps it as written.
  {
    input: 'Registry.Example.COM/app',
    ref: { registry: 'Registry.Example.COM', repository: 'app' },
    familiar: 'Registry.Example.COM/app',
  },
  // A repository namespace cannot be upper-case, so Docker reads this first component as a host.
  { input: 'Foo/bar', ref: { registry: 'Foo', repository: 'bar' }, familiar: 'Foo/bar' },
  { input: 'team/a__b/c---d', ref: hub('team/a__b/c---d'), familiar: 'team/a__b/c---d' },
  { input: 'team/a.b_c-d', ref: hub('team/a.b_c-d'), familiar: 'team/a.b_c-d' },
  {
    input: 'app:V1_2.3-rc',
    ref: hub('library/app', { tag: 'V1_2.3-rc' }),
    familiar: 'app:V1_2.3-rc',
  },
  {
    input: `app:${'t'.repeat(128)}`,
    ref: hub('library/app', { tag: 't'.repeat(128) }),
    familiar: `app:${'t'.repeat(128)}`,
  },
  {
    input: `registry.example.com/${'r'.repeat(255)}`,
    ref: { registry: 'registry.example.com', repository: 'r'.repeat(255) },
    familiar: `registry.example.com/${'r'.repeat(255)}`,
  },
  // Dropping docker.io/ here would turn the first path component into a registry host.
  {
    input: 'docker.io/example.com/app',
    ref: hub('example.com/app'),
    familiar: 'docker.io/example.com/app',
  },
  { input: 'docker.io/localhost/x', ref: hub('localhost/x'), familiar: 'docker.io/localhost/x' },
  { input: 'docker.io/library/a.b', ref: hub('library/a.b'), familiar: 'a.b' },
];

const invalid: { input: string; reason: string }[] = [
  { input: '', reason: 'reference is empty' },
  {
    input: 'a1b2c3d4'.repeat(8),
    reason: 'a 64-character hex string is an image ID, not a repository name',
  },
  { input: `@${SHA256}`, reason: 'repository name is empty' },
  { input: ':1.25', reason: 'repository name is empty' },
  { input: 'Nginx', reason: 'repository name must be lowercase' },
  { input: 'user/App', reason: 'repository name must be lowercase' },
  { input: 'localhost:5000/App:1', reason: 'repository name must be lowercase' },
  {
    input: 'a//b',
    reason: 'repository name has an empty path component (a double or trailing "/")',
  },
  {
    input: 'ghcr.io//app',
    reason: 'repository name has an empty path component (a double or trailing "/")',
  },
  {
    input: 'user/app/',
    reason: 'repository name has an empty path component (a double or trailing "/")',
  },
  { input: 'localhost:5000/', reason: 'repository name is empty' },
  { input: 'nginx:', reason: 'tag is empty (nothing after ":")' },
  { input: `nginx:@${SHA256}`, reason: 'tag is empty (nothing after ":")' },
  { input: `app:${'t'.repeat(129)}`, reason: 'tag must not be more than 128 characters (got 129)' },
  {
    input: 'nginx:-rc',
    reason:
      'tag "-rc" is invalid: use letters, digits, "_", "." and "-", not starting with "." or "-"',
  },
  {
    input: 'nginx:1.25:',
    reason:
      'tag "1.25:" is invalid: use letters, digits, "_", "." and "-", not starting with "." or "-"',
  },
  ...['a___b', '-app', '_app', 'app-', 'a..b', ' nginx'].map((component) => ({
    input: `team/${component}`,
    reason: `repository path component ${JSON.stringify(component)} is invalid: use lowercase letters and digits, separated by one ".", one "_", "__" or any number of "-"`,
  })),
  {
    input: `registry.example.com/${'r'.repeat(256)}`,
    reason: 'repository name must not be more than 255 characters (got 256)',
  },
  // "library/" counts: 8 + 248 = 256.
  {
    input: 'n'.repeat(248),
    reason: 'repository name must not be more than 255 characters (got 256)',
  },
  ...['my_registry.local', 'localhost:abc', '::1', '-registry.com', 'host:'].map((host) => ({
    input: `${host}/app`,
    reason: `registry host ${JSON.stringify(host)} is invalid: expected a host name, IPv4 address or [IPv6] address, with an optional :port`,
  })),
  { input: 'nginx@', reason: 'digest is empty (nothing after "@")' },
  {
    input: 'nginx@sha256',
    reason:
      'digest "sha256" is invalid: expected algorithm:hex, such as sha256:<64 hex characters>',
  },
  {
    input: `nginx@${SHA256}@${SHA256}`,
    reason: `digest ${JSON.stringify(`${SHA256}@${SHA256}`)} is invalid: expected algorithm:hex, such as sha256:<64 hex characters>`,
  },
  {
    input: `nginx@${SHA256.slice(0, -1)}`,
    reason: 'sha256 digest must have 64 hex characters (got 63)',
  },
  { input: `nginx@${SHA256}0`, reason: 'sha256 digest must have 64 hex characters (got 65)' },
  {
    input: `nginx@sha512:${'0f'.repeat(32)}`,
    reason: 'sha512 digest must have 128 hex characters (got 64)',
  },
  {
    input: `nginx@${SHA256.toUpperCase().replace('SHA', 'sha')}`,
    reason: 'sha256 digest must be lowercase hex',
  },
  {
    input: `nginx@md5:${'ab'.repeat(16)}`,
    reason: 'unsupported digest algorithm "md5": expected sha256, sha384 or sha512',
  },
];

describe('parseImageRef', () => {
  it.each(valid)('parses $input', ({ input, ref }) => {
    expect(parseImageRef(input)).toStrictEqual(ref);
  });

  it.each(invalid)('rejects $input', ({ input, reason }) => {
    const error = catchError(() => parseImageRef(input));
    expect(error).toBeInstanceOf(InvalidImageRefError);
    expect(error).toMatchObject({ input, reason, name: 'InvalidImageRefError' });
  });

  it('names the input and the reason in the message', () => {
    expect(() => parseImageRef('Nginx')).toThrow(
      'invalid image reference "Nginx": repository name must be lowercase',
    );
  });

  it('cuts a huge input short in the message but keeps it whole on the error', () => {
    const input = `Nginx${'x'.repeat(10_000)}`;
    const error = catchError(() => parseImageRef(input)) as InvalidImageRefError;
    expect(error.input).toBe(input);
    expect(error.message.length).toBeLessThan(400);
  });

  it('does not default the tag', () => {
    expect(parseImageRef('nginx').tag).toBeUndefined();
  });
});

describe('formatImageRef and familiarImageRef', () => {
  it.each(valid)('formats $input fully qualified and parses it back', ({ ref }) => {
    const formatted = formatImageRef(ref);
    expect(formatted.startsWith(`${ref.registry}/${ref.repository}`)).toBe(true);
    expect(parseImageRef(formatted)).toStrictEqual(ref);
  });

  it.each(valid)(
    'gives $input the familiar form $familiar, which parses back',
    ({ ref, familiar }) => {
      expect(familiarImageRef(ref)).toBe(familiar);
      expect(parseImageRef(familiar)).toStrictEqual(ref);
    },
  );

  it('formats every part of a full reference', () => {
    expect(formatImageRef(hub('library/nginx', { tag: '1.25', digest: SHA256 }))).toBe(
      `docker.io/library/nginx:1.25@${SHA256}`,
    );
  });
});

describe('withDefaultTag', () => {
  it('adds latest to a name without tag or digest', () => {
    expect(withDefaultTag(parseImageRef('nginx'))).toStrictEqual(
      hub('library/nginx', { tag: 'latest' }),
    );
  });

  it.each(['nginx:1.25', `nginx@${SHA256}`])('leaves %s alone', (input) => {
    const ref = parseImageRef(input);
    expect(withDefaultTag(ref)).toBe(ref);
  });
});

describe('repositoryKey', () => {
  it.each([
    ['nginx:1.25', 'docker.io/library/nginx'],
    [`registry-1.docker.io/library/nginx@${SHA256}`, 'docker.io/library/nginx'],
    [`${ECR}/shop/api:prod`, `${ECR}/shop/api`],
    ['Registry.Example.COM/app', 'registry.example.com/app'],
  ])('keys %s as %s', (input, key) => {
    expect(repositoryKey(parseImageRef(input))).toBe(key);
  });
});

describe('isDigest', () => {
  it.each([
    [SHA256, true],
    [SHA512, true],
    [`sha384:${'c'.repeat(96)}`, true],
    [SHA256.slice(0, -1), false],
    [SHA256.toUpperCase(), false],
    [`md5:${'ab'.repeat(16)}`, false],
    ['a1b2c3d4'.repeat(8), false],
    ['', false],
  ])('%s → %s', (text, expected) => {
    expect(isDigest(text)).toBe(expected);
  });
});

describe('parseRepository', () => {
  it.each([
    ['nginx', hub('library/nginx')],
    [`${ECR}/shop/api`, { registry: ECR, repository: 'shop/api' }],
    ['localhost:5000/a', { registry: 'localhost:5000', repository: 'a' }],
  ])('parses %s', (input, ref) => {
    expect(parseRepository(input)).toStrictEqual(ref);
  });

  it.each([
    ['ghcr.io/acme/web:1.0', 'a repository must not include a tag (found tag "1.0")'],
    [
      'x:5000',
      'a repository must not include a tag (found tag "5000"); without a "/", "x:5000" is read as a Docker Hub repository, not a registry host',
    ],
    [`ghcr.io/acme/web@${SHA256}`, `a repository must not include a digest (found "${SHA256}")`],
    ['Nginx', 'repository name must be lowercase'],
  ])('rejects %s', (input, reason) => {
    expect(catchError(() => parseRepository(input))).toMatchObject({ input, reason });
  });
});

describe('tryParseImageRef', () => {
  it('returns the ref', () => {
    expect(tryParseImageRef('user/app')).toStrictEqual({ ok: true, ref: hub('user/app') });
  });

  it('returns the message instead of throwing', () => {
    expect(tryParseImageRef('nginx:')).toStrictEqual({
      ok: false,
      error: 'invalid image reference "nginx:": tag is empty (nothing after ":")',
    });
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected an error');
}
