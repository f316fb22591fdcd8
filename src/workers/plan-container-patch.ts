import type { Workload } from './ports.js';

/** Annotations cvm writes on the workloads it manages. */
export const Annotation = {
  ContainerVersion: 'cvm.dev/container-version',
  Version: 'cvm.dev/version',
  Digest: 'cvm.dev/digest',
  /** The image before cvm's last change: what a rollback restores. */
  PreviousImage: 'cvm.dev/previous-image',
  ChangeCause: 'kubernetes.io/change-cause',
} as const;

export interface DesiredImage {
  /** `repo:version@sha256:…`, what the container should run. */
  image: string;
  digest: string;
  version: string;
  /** `namespace/name` of the ContainerVersion. */
  containerVersion: string;
}

export type ContainerPatchPlan =
  | { action: 'patch'; patch: object; previousImage: string | undefined }
  | { action: 'none'; reason: 'already at digest' }
  | { action: 'missing-container' };

/** The digest an image reference pins (`…@sha256:…`), if any. */
export const digestOfImage = (image: string | undefined): string | undefined =>
  image?.includes('@') ? image.slice(image.lastIndexOf('@') + 1) : undefined;

/** The tag of an image reference (`ghcr.io/acme/api:1.4.2@sha256:…` → `1.4.2`), if it has one. */
export function versionOfImage(image: string): string | undefined {
  const name = image.includes('@') ? image.slice(0, image.lastIndexOf('@')) : image;
  const last = name.slice(name.lastIndexOf('/') + 1);
  return last.includes(':') ? last.slice(last.lastIndexOf(':') + 1) : undefined;
}

/**
 * The strategic-merge patch that makes `container` of `workload` run `desired.image`, with cvm's
 * annotations and `kubernetes.io/change-cause` on the workload; nothing else in the object changes.
 * `none` when the container already runs the digest (so a repeated job patches nothing);
 * `missing-container` when the workload has no such container or initContainer. Pure.
 */
export function planContainerPatch(
  workload: Workload,
  container: string,
  desired: DesiredImage,
): ContainerPatchPlan {
  const inContainers = workload.containers.find((c) => c.name === container);
  const inInit = inContainers
    ? undefined
    : workload.initContainers.find((c) => c.name === container);
  const current = inContainers ?? inInit;
  if (!current) return { action: 'missing-container' };
  if (digestOfImage(current.image) === desired.digest)
    return { action: 'none', reason: 'already at digest' };
  const list = inContainers ? 'containers' : 'initContainers';
  const podSpec = { [list]: [{ name: container, image: desired.image }] };
  const template = { spec: podSpec };
  const spec = workload.kind === 'CronJob' ? { jobTemplate: { spec: { template } } } : { template };
  return {
    action: 'patch',
    previousImage: current.image,
    patch: {
      metadata: {
        annotations: {
          [Annotation.ContainerVersion]: desired.containerVersion,
          [Annotation.Version]: desired.version,
          [Annotation.Digest]: desired.digest,
          ...(current.image ? { [Annotation.PreviousImage]: current.image } : {}),
          [Annotation.ChangeCause]: `cvm: ${desired.containerVersion} set ${container}=${desired.image}`,
        },
      },
      spec,
    },
  };
}
