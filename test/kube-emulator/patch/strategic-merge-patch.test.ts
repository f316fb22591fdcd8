import { describe, expect, it } from 'vitest';
import { applyStrategicMergePatch, mergeKeyFor } from './strategic-merge-patch.js';

const pod = {
  metadata: { labels: { app: 'web' }, finalizers: ['a'] },
  spec: {
    containers: [
      {
        name: 'app',
        image: 'app:1',
        env: [
          { name: 'A', value: '1' },
          { name: 'B', value: '2' },
        ],
        ports: [{ containerPort: 80, protocol: 'TCP' }],
        volumeMounts: [{ name: 'data', mountPath: '/data' }],
      },
      { name: 'sidecar', image: 'side:1' },
    ],
    volumes: [{ name: 'data', emptyDir: {} }],
    imagePullSecrets: [{ name: 'reg' }],
    tolerations: [{ key: 'a' }],
  },
};

type Pod = typeof pod;
const apply = (patch: unknown): Pod => applyStrategicMergePatch(pod, patch) as Pod;

describe('strategic merge patch', () => {
  it('merges containers by name, keeping the others', () => {
    const out = apply({ spec: { containers: [{ name: 'app', image: 'app:2' }] } });
    expect(out.spec.containers.map((c) => `${c.name}=${c.image}`)).toEqual([
      'app=app:2',
      'sidecar=side:1',
    ]);
    expect(out.spec.containers[0]?.env).toHaveLength(2);
  });

  it('appends unknown keys and merges env by name, ports by containerPort', () => {
    const out = apply({
      spec: {
        containers: [
          {
            name: 'app',
            env: [
              { name: 'B', value: '3' },
              { name: 'C', value: '4' },
            ],
            ports: [{ containerPort: 80, name: 'http' }],
          },
          { name: 'new', image: 'n:1' },
        ],
      },
    });
    expect(out.spec.containers[0]?.env).toEqual([
      { name: 'A', value: '1' },
      { name: 'B', value: '3' },
      { name: 'C', value: '4' },
    ]);
    expect(out.spec.containers[0]?.ports).toEqual([
      { containerPort: 80, protocol: 'TCP', name: 'http' },
    ]);
    expect(out.spec.containers.map((c) => c.name)).toEqual(['app', 'sidecar', 'new']);
  });

  it('$patch: delete removes a list element by key; null removes a field', () => {
    const out = apply({
      spec: { containers: [{ name: 'sidecar', $patch: 'delete' }], imagePullSecrets: null },
    });
    expect(out.spec.containers.map((c) => c.name)).toEqual(['app']);
    expect(out.spec).not.toHaveProperty('imagePullSecrets');
  });

  it('$patch: replace replaces a list or a map', () => {
    const out = apply({
      metadata: { labels: { $patch: 'replace', tier: 'x' } },
      spec: { volumes: [{ $patch: 'replace' }, { name: 'only', emptyDir: {} }] },
    });
    expect(out.metadata.labels).toEqual({ tier: 'x' });
    expect(out.spec.volumes).toEqual([{ name: 'only', emptyDir: {} }]);
  });

  it('lists without a merge key are replaced', () => {
    expect(apply({ spec: { tolerations: [{ key: 'b' }] } }).spec.tolerations).toEqual([
      { key: 'b' },
    ]);
  });

  it('finalizers merge as a set; $deleteFromPrimitiveList removes values', () => {
    expect(apply({ metadata: { finalizers: ['a', 'b'] } }).metadata.finalizers).toEqual(['a', 'b']);
    expect(
      apply({ metadata: { '$deleteFromPrimitiveList/finalizers': ['a'] } }).metadata.finalizers,
    ).toEqual([]);
  });

  it('$retainKeys drops fields not listed; $setElementOrder is accepted', () => {
    const out = apply({
      spec: {
        $retainKeys: ['containers'],
        '$setElementOrder/containers': [{ name: 'sidecar' }, { name: 'app' }],
        containers: [{ name: 'app', image: 'app:3' }],
      },
    });
    expect(Object.keys(out.spec)).toEqual(['containers']);
    expect(out.spec.containers[0]?.image).toBe('app:3');
  });

  it.each([
    [['spec', 'template', 'spec', 'containers'], 'name'],
    [['spec', 'containers', 'ports'], 'containerPort'],
    [['spec', 'ports'], 'port'],
    [['spec', 'containers', 'volumeMounts'], 'mountPath'],
    [['status', 'conditions'], 'type'],
    [['spec', 'tolerations'], undefined],
  ])('merge key of %j is %s', (path, key) => {
    expect(mergeKeyFor(path)).toBe(key);
  });
});
