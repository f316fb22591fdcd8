import { z } from 'zod';
import { stringify } from 'yaml';
import {
  CV_GROUP,
  CV_KIND,
  CV_PLURAL,
  CV_SHORT_NAMES,
  CV_SINGULAR,
  CV_VERSION,
  ContainerVersionSpecSchema,
  ContainerVersionStatusSchema,
} from './container-version.js';

type JsonSchema = Record<string, unknown>;

/**
 * Makes Zod's OpenAPI 3.0 output a Kubernetes structural schema: drops the implicit ±2^53 bounds
 * Zod adds to integers (noise in `kubectl explain`) and marks integers int64.
 */
function toStructural(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(toStructural);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (
      (key === 'maximum' || key === 'minimum') &&
      Math.abs(value as number) === Number.MAX_SAFE_INTEGER
    )
      continue;
    out[key] = toStructural(value);
  }
  if (out.type === 'integer') out.format = 'int64';
  return out;
}

function openApi(schema: z.ZodType): JsonSchema {
  return toStructural(z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input' })) as JsonSchema;
}

/** The CustomResourceDefinition of ContainerVersion, generated from the Zod schema. */
export function containerVersionCrd(): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${CV_PLURAL}.${CV_GROUP}` },
    spec: {
      group: CV_GROUP,
      scope: 'Namespaced',
      names: {
        kind: CV_KIND,
        listKind: `${CV_KIND}List`,
        plural: CV_PLURAL,
        singular: CV_SINGULAR,
        shortNames: [...CV_SHORT_NAMES],
        categories: ['all', 'cvm'],
      },
      versions: [
        {
          name: CV_VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [
            { name: 'Repo', type: 'string', jsonPath: '.spec.imageRepo' },
            { name: 'Tag', type: 'string', jsonPath: '.spec.tag' },
            { name: 'Version', type: 'string', jsonPath: '.status.currentVersion' },
            {
              name: 'Ready',
              type: 'string',
              jsonPath: '.status.conditions[?(@.type=="Ready")].status',
            },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
          ],
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description:
                'A ContainerVersion makes the named container of the selected workloads run the image a tag points to.',
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                metadata: { type: 'object' },
                spec: openApi(ContainerVersionSpecSchema),
                status: openApi(ContainerVersionStatusSchema),
              },
            },
          },
        },
      ],
    },
  };
}

/** The CRD as the YAML document committed in `infra/kubernetes/crd.yaml`. */
export function containerVersionCrdYaml(): string {
  return `# Generated from src/api/container-version.ts by \`cvm manifests crd\`; do not edit.\n${stringify(containerVersionCrd(), { lineWidth: 0 })}`;
}
