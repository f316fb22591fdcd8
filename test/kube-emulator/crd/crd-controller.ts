import { isDeepStrictEqual } from 'node:util';
import { formatKubeTime } from '../clock.js';
import type { KubeObject } from '../contract.js';
import { resourceName } from '../resources/resource-type.js';
import type { MemoryStore } from '../store.js';
import {
  customResourceType,
  defaultCrd,
  servedVersion,
  validateCrd,
  type CrdSpec,
} from './crd-types.js';

const CRDS = 'customresourcedefinitions.apiextensions.k8s.io';

function crdStatus(crd: KubeObject, now: string): Record<string, unknown> {
  const spec = crd.spec as CrdSpec;
  const previous =
    (crd.status as { conditions?: { type: string; lastTransitionTime?: string }[] } | undefined)
      ?.conditions ?? [];
  const since = (type: string): string =>
    previous.find((c) => c.type === type)?.lastTransitionTime ?? now;
  return {
    acceptedNames: {
      plural: spec.names.plural,
      singular: spec.names.singular ?? spec.names.kind.toLowerCase(),
      kind: spec.names.kind,
      listKind: spec.names.listKind ?? `${spec.names.kind}List`,
      ...(spec.names.shortNames ? { shortNames: spec.names.shortNames } : {}),
      ...(spec.names.categories ? { categories: spec.names.categories } : {}),
    },
    conditions: [
      {
        type: 'NamesAccepted',
        status: 'True',
        lastTransitionTime: since('NamesAccepted'),
        reason: 'NoConflicts',
        message: 'no conflicts found',
      },
      {
        type: 'Established',
        status: 'True',
        lastTransitionTime: since('Established'),
        reason: 'InitialNamesAccepted',
        message: 'the initial names have been accepted',
      },
    ],
    storedVersions: [servedVersion(spec)?.name ?? ''],
  };
}

/**
 * Serves custom resources as their CustomResourceDefinitions come and go, and reports the CRD
 * conditions NamesAccepted and Established. Returns the unsubscribe function.
 */
export function startCrdController(store: MemoryStore, now: () => number): () => void {
  const crdType = store.registry.get(CRDS);
  if (crdType) {
    crdType.validate = validateCrd;
    crdType.defaults = defaultCrd;
  }
  const served = new Map<string, string>();
  return store.subscribe(
    (event) => {
      if (event.resource !== CRDS) return;
      const crdName = event.object.metadata.name ?? '';
      const previous = served.get(crdName);
      if (event.type === 'DELETED') {
        if (previous) {
          for (const o of store.list(previous))
            store.delete(previous, o.metadata.namespace, o.metadata.name ?? '');
          store.registry.unregister(previous);
          served.delete(crdName);
        }
        return;
      }
      const type = customResourceType(event.object);
      if (!type) return;
      if (previous && previous !== resourceName(type)) store.registry.unregister(previous);
      store.registry.register(type);
      served.set(crdName, resourceName(type));
      const status = crdStatus(event.object, formatKubeTime(now()));
      if (!isDeepStrictEqual(status, event.object.status)) {
        store.updateStatus(CRDS, {
          ...event.object,
          status,
          metadata: { ...event.object.metadata, resourceVersion: undefined },
        });
      }
    },
    { shared: true },
  );
}
