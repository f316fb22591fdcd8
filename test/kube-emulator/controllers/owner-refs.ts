import type { KubeObject } from '../contract.js';

/** A controller ownerReference to `owner`, as `metav1.NewControllerRef` makes it. */
export function controllerRef(owner: KubeObject): {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller: true;
  blockOwnerDeletion: true;
} {
  return {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: owner.metadata.name ?? '',
    uid: owner.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** Whether `object` is controlled by the object with `ownerUid`. */
export function isControlledBy(object: KubeObject, ownerUid: string | undefined): boolean {
  return (object.metadata.ownerReferences ?? []).some(
    (r) => r.controller === true && r.uid === ownerUid,
  );
}

/** The controller ownerReference of `object`, if any. */
export function controllerOf(
  object: KubeObject,
): { kind: string; name: string; uid: string } | undefined {
  return (object.metadata.ownerReferences ?? []).find((r) => r.controller === true);
}
