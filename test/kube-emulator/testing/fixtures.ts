/** Manifests shared by the emulator's kubectl and client-node tests. */

export function deploymentManifest(name: string, image = 'nginx:1.25'): Record<string, unknown> {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels: { app: name } },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'app', image, ports: [{ containerPort: 80 }] }] },
      },
    },
  };
}

export const containerVersionCrd = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'containerversions.cvm.dev' },
  spec: {
    group: 'cvm.dev',
    scope: 'Namespaced',
    names: {
      plural: 'containerversions',
      singular: 'containerversion',
      kind: 'ContainerVersion',
      shortNames: ['cv'],
      categories: ['cvm'],
    },
    versions: [
      {
        name: 'v1alpha1',
        served: true,
        storage: true,
        subresources: { status: {} },
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: {
                type: 'object',
                required: ['image', 'tag'],
                properties: {
                  image: { type: 'string' },
                  tag: { type: 'string', pattern: '^v' },
                  pollIntervalSeconds: { type: 'integer', default: 300, minimum: 10 },
                  policy: { type: 'string', enum: ['semver', 'latest'], default: 'latest' },
                  labels: { type: 'object', additionalProperties: { type: 'string' } },
                  extra: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
                },
              },
              status: {
                type: 'object',
                properties: {
                  observedGeneration: { type: 'integer' },
                  phase: { type: 'string' },
                },
              },
            },
          },
        },
      },
    ],
  },
};

export function containerVersion(
  name: string,
  spec: Record<string, unknown>,
): Record<string, unknown> {
  return { apiVersion: 'cvm.dev/v1alpha1', kind: 'ContainerVersion', metadata: { name }, spec };
}
