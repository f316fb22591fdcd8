import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { containerVersionCrd, containerVersionCrdYaml } from '../../src/api/crd.js';

const committed = readFileSync(new URL('../../infra/kubernetes/crd.yaml', import.meta.url), 'utf8');

describe('ContainerVersion CRD', () => {
  it('infra/kubernetes/crd.yaml is what the schema generates (run `npm run manifests:crd` after changing the schema)', () => {
    expect(committed).toBe(containerVersionCrdYaml());
  });

  it('names the resource cvm.dev/v1 ContainerVersion, plural containerversions, short name cv, namespaced', () => {
    const crd = parse(committed);
    expect(crd.metadata.name).toBe('containerversions.cvm.dev');
    expect(crd.spec.scope).toBe('Namespaced');
    expect(crd.spec.names).toMatchObject({
      kind: 'ContainerVersion',
      plural: 'containerversions',
      singular: 'containerversion',
      shortNames: ['cv'],
    });
    const [version] = crd.spec.versions;
    expect(version).toMatchObject({
      name: 'v1',
      served: true,
      storage: true,
      subresources: { status: {} },
    });
    expect(version.additionalPrinterColumns.map((c: { name: string }) => c.name)).toEqual([
      'Repo',
      'Tag',
      'Version',
      'Ready',
      'Age',
    ]);
  });

  it('carries defaults and required fields so the API server applies and enforces them', () => {
    const spec = (containerVersionCrd() as any).spec.versions[0].schema.openAPIV3Schema.properties
      .spec;
    expect(spec.required).toEqual(['imageRepo', 'tag', 'selector', 'container']);
    expect(spec.properties.pollIntervalSeconds).toMatchObject({
      type: 'integer',
      default: 300,
      minimum: 0,
    });
    expect(spec.properties.rollback).toMatchObject({
      default: {},
      properties: { progressDeadlineSeconds: { default: 600 } },
    });
    expect(spec.properties.strategy.properties.type).toMatchObject({
      enum: ['Rolling', 'BlueGreen', 'Canary'],
      default: 'Rolling',
    });
    expect(spec.properties.selector).toMatchObject({
      type: 'object',
      minProperties: 1,
      additionalProperties: { type: 'string' },
    });
  });

  it('is a structural schema: every node has a type and no Zod integer bounds leak in', () => {
    const walk = (node: any, path: string): string[] => {
      if (node === null || typeof node !== 'object') return [];
      const problems: string[] = [];
      if (node.type === undefined && !node['x-kubernetes-preserve-unknown-fields'])
        problems.push(`${path}: no type`);
      if (
        Math.abs(node.maximum ?? 0) === Number.MAX_SAFE_INTEGER ||
        Math.abs(node.minimum ?? 0) === Number.MAX_SAFE_INTEGER
      )
        problems.push(`${path}: 2^53 bound`);
      for (const [k, v] of Object.entries(node.properties ?? {}))
        problems.push(...walk(v, `${path}.${k}`));
      if (node.items) problems.push(...walk(node.items, `${path}[]`));
      if (typeof node.additionalProperties === 'object')
        problems.push(...walk(node.additionalProperties, `${path}{}`));
      return problems;
    };
    const root = (containerVersionCrd() as any).spec.versions[0].schema.openAPIV3Schema;
    expect(walk(root, '')).toEqual([]);
  });
});
