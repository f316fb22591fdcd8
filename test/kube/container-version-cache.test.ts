import { describe, expect, it } from 'vitest';
import { backoffDelayMs } from '../../src/kube/backoff.js';
import { ContainerVersionCache } from '../../src/kube/container-version-cache.js';
import type { StoredContainerVersion } from '../../src/workers/ports.js';

const cv = (name: string, spec: unknown, resourceVersion = '1'): StoredContainerVersion => ({
  apiVersion: 'cvm.dev/v1',
  kind: 'ContainerVersion',
  metadata: { name, namespace: 'ns', uid: `uid-${name}`, generation: 1, resourceVersion },
  spec,
});

describe('ContainerVersionCache', () => {
  it.each([
    ['nginx', 'docker.io', 'library/nginx'],
    ['docker.io/library/nginx', 'docker.io', 'library/nginx'],
    ['index.docker.io/library/nginx', 'docker.io', 'library/nginx'],
    ['acme/api', 'docker.io', 'acme/api'],
    ['Registry.Example.com:5000/team/api', 'registry.example.com:5000', 'team/api'],
    [
      '123456789012.dkr.ecr.us-east-1.amazonaws.com/shop/api',
      '123456789012.dkr.ecr.us-east-1.amazonaws.com',
      'shop/api',
    ],
  ])('imageRepo %s follows %s/%s', (imageRepo, registry, repository) => {
    const cache = new ContainerVersionCache();
    cache.upsert(cv('a', { imageRepo, tag: 'prod' }));
    expect(cache.following(registry, repository, 'prod')).toEqual([
      { namespace: 'ns', name: 'a', uid: 'uid-a' },
    ]);
    expect(cache.following(registry, repository, 'dev')).toEqual([]);
  });

  it.each([
    ['no spec', undefined],
    ['no tag', { imageRepo: 'nginx' }],
    ['a tag in imageRepo', { imageRepo: 'nginx:1.25', tag: 'prod' }],
    ['an invalid host', { imageRepo: 'my_host.local/app', tag: 'prod' }],
    ['a number', { imageRepo: 42, tag: 'prod' }],
  ])('a CV with %s is kept but follows nothing', (_what, spec) => {
    const cache = new ContainerVersionCache();
    expect(cache.upsert(cv('bad', spec))?.type).toBe('add');
    expect(cache.list()).toHaveLength(1);
    expect(cache.following('docker.io', 'library/nginx', 'prod')).toEqual([]);
  });

  it('reports add, update (only for a new resourceVersion) and delete, and re-indexes', () => {
    const cache = new ContainerVersionCache();
    expect(cache.upsert(cv('a', { imageRepo: 'nginx', tag: 'v1' }, '1'))?.type).toBe('add');
    expect(cache.upsert(cv('a', { imageRepo: 'nginx', tag: 'v1' }, '1'))).toBeUndefined();
    expect(cache.upsert(cv('a', { imageRepo: 'nginx', tag: 'v2' }, '2'))?.type).toBe('update');
    expect(cache.following('docker.io', 'library/nginx', 'v1')).toEqual([]);
    expect(cache.following('docker.io', 'library/nginx', 'v2')).toHaveLength(1);
    expect(cache.remove(cv('a', {}))?.type).toBe('delete');
    expect(cache.remove(cv('a', {}))).toBeUndefined();
    expect(cache.following('docker.io', 'library/nginx', 'v2')).toEqual([]);
  });

  it('retainOnly drops what a fresh list no longer has', () => {
    const cache = new ContainerVersionCache();
    cache.upsert(cv('a', { imageRepo: 'nginx', tag: 'v1' }));
    cache.upsert(cv('b', { imageRepo: 'nginx', tag: 'v1' }));
    expect(
      cache.retainOnly(new Set(['ns/a'])).map((c) => `${c.type} ${c.object.metadata.name}`),
    ).toEqual(['delete b']);
    expect(cache.following('docker.io', 'library/nginx', 'v1').map((f) => f.name)).toEqual(['a']);
  });
});

describe('backoffDelayMs', () => {
  it.each([
    [0, 0, 250],
    [0, 0.999, 500],
    [1, 0, 500],
    [3, 0.5, 3000],
    [10, 0, 15_000],
    [10, 0.999, 29_985],
    [1000, 0.999, 29_985],
  ])('attempt %i with random %f waits %i ms (initial 500, max 30 000)', (attempt, r, expected) => {
    expect(backoffDelayMs(attempt, 500, 30_000, () => r)).toBe(expected);
  });
});
