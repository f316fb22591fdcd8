import { describe, expect, it } from 'vitest';
import { parseRoute } from './routes.js';

const isNamespaceSubresource = (s: string): boolean => s === 'status' || s === 'finalize';

describe('parseRoute', () => {
  it.each([
    ['/api/v1', { kind: 'discovery', path: '/api/v1' }],
    ['/apis/apps/v1/', { kind: 'discovery', path: '/apis/apps/v1' }],
    ['/api/v1/namespaces', { kind: 'resource', group: '', version: 'v1', plural: 'namespaces' }],
    [
      '/api/v1/namespaces/dev',
      { kind: 'resource', group: '', version: 'v1', plural: 'namespaces', name: 'dev' },
    ],
    [
      '/api/v1/namespaces/dev/status',
      {
        kind: 'resource',
        group: '',
        version: 'v1',
        plural: 'namespaces',
        name: 'dev',
        subresource: 'status',
      },
    ],
    [
      '/api/v1/namespaces/dev/pods',
      { kind: 'resource', group: '', version: 'v1', namespace: 'dev', plural: 'pods' },
    ],
    [
      '/apis/apps/v1/namespaces/dev/deployments/web/scale',
      {
        kind: 'resource',
        group: 'apps',
        version: 'v1',
        namespace: 'dev',
        plural: 'deployments',
        name: 'web',
        subresource: 'scale',
      },
    ],
    [
      '/apis/apps/v1/deployments',
      { kind: 'resource', group: 'apps', version: 'v1', plural: 'deployments' },
    ],
    [
      '/apis/cvm.dev/v1alpha1/namespaces/a/containerversions/x',
      {
        kind: 'resource',
        group: 'cvm.dev',
        version: 'v1alpha1',
        namespace: 'a',
        plural: 'containerversions',
        name: 'x',
      },
    ],
    ['/healthz', { kind: 'unknown' }],
    ['/apis/apps/v1/namespaces/a/deployments/b/c/d', { kind: 'unknown' }],
  ])('%s', (path, expected) => {
    expect(parseRoute(path, isNamespaceSubresource)).toEqual(expected);
  });
});
