import { Command } from 'commander';
import { tryParseImageRef } from '../events/image-ref.js';
import {
  defaultInstallOptions,
  installObjects,
  manifestsYaml,
  type InstallOptions,
} from '../install/install-manifests.js';
import { CliExit, ExitCode } from './cli-exit.js';

const NAMESPACE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

interface AllFlags {
  namespace: string;
  image: string;
  split?: boolean;
  externalRedis?: boolean;
}

/** Checks the flags; a bad one ends the command with exit code 2 and a message naming it. */
function installOptions(flags: AllFlags): InstallOptions {
  if (!NAMESPACE.test(flags.namespace) || flags.namespace.length > 63)
    throw new CliExit(
      ExitCode.Usage,
      `--namespace "${flags.namespace}" must be a namespace name (lowercase letters, digits and -, at most 63)`,
    );
  const image = tryParseImageRef(flags.image);
  if (!image.ok) throw new CliExit(ExitCode.Usage, `--image: ${image.error}`);
  return {
    namespace: flags.namespace,
    image: flags.image,
    topology: flags.split ? 'split' : 'serve',
    redis: flags.externalRedis ? 'external' : 'statefulset',
  };
}

/**
 * `cvm manifests all`: every object of an install as one YAML stream, the same as
 * `kubectl kustomize infra/kubernetes` (or its overlays, with `--split`, `--external-redis`).
 */
export function manifestsAllCommand(out: (text: string) => void, version: string): Command {
  const defaults = defaultInstallOptions(version);
  return new Command('all')
    .description(
      'every object of an install: the same as `kubectl kustomize infra/kubernetes` (pipe to `kubectl apply -f -`)',
    )
    .option('--namespace <name>', "cvm's own namespace", defaults.namespace)
    .option('--image <ref>', "cvm's image", defaults.image)
    .option('--split', 'receiver, worker and reconciler as Deployments of 2 replicas each')
    .option('--external-redis', 'no Redis StatefulSet: CVM_REDIS_URL from the Secret cvm-redis')
    .action((flags: AllFlags) => out(manifestsYaml(installObjects(installOptions(flags)))));
}
