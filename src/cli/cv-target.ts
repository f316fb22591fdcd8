import { Option, type Command } from 'commander';
import { KubeContainerVersionAccess } from '../kube/container-version-access.js';
import type { ObjectKey } from '../workers/ports.js';
import { CliExit, ExitCode } from './cli-exit.js';
import { AccessError, type ContainerVersionAccess } from './cv-access.js';
import type { CliIo } from './program.js';
import { RestContainerVersionAccess } from './rest-cv-access.js';

/** Options every ContainerVersion command takes: where the CVs are read. */
export interface AccessOptions {
  kubeconfig?: string;
  server?: string;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;

/** `namespace/name` of a CV; a {@link CliExit} (exit 2) naming what is wrong otherwise. */
export function parseCvRef(ref: string): ObjectKey {
  const parts = ref.split('/');
  if (parts.length !== 2)
    throw new CliExit(
      ExitCode.Usage,
      `give the ContainerVersion as <namespace>/<name>, got ${JSON.stringify(ref)}`,
    );
  const [namespace = '', name = ''] = parts;
  if (namespace.length > 63 || !DNS_LABEL.test(namespace))
    throw new CliExit(
      ExitCode.Usage,
      `namespace ${JSON.stringify(namespace)} is not a DNS-1123 label (lowercase letters, digits and '-')`,
    );
  if (name.length > 253 || !DNS_SUBDOMAIN.test(name))
    throw new CliExit(
      ExitCode.Usage,
      `name ${JSON.stringify(name)} is not a valid Kubernetes object name`,
    );
  return { namespace, name };
}

/** `sha256:<64 hex>`; a {@link CliExit} (exit 2) otherwise. */
export function parseDigest(value: string, flag: string): string {
  if (!DIGEST.test(value))
    throw new CliExit(
      ExitCode.Usage,
      `${flag} must be a digest sha256:<64 hex digits>, got ${JSON.stringify(value)}`,
    );
  return value;
}

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const;

/** `90`, `90s`, `10m`, `1h`, `500ms` in ms (a bare number is seconds), up to 24 h. */
export function parseDurationMs(value: string, flag: string): number {
  const match = /^(\d+)(ms|s|m|h)?$/.exec(value.trim());
  const ms = match ? Number(match[1]) * UNIT_MS[(match[2] ?? 's') as keyof typeof UNIT_MS] : NaN;
  if (!match || ms <= 0 || ms > 86_400_000)
    throw new CliExit(
      ExitCode.Usage,
      `${flag} must be a duration such as 90s, 10m or 1h (at most 24h), got ${JSON.stringify(value)}`,
    );
  return ms;
}

/** Adds `--kubeconfig` and `--server` to a command. */
export function withAccessOptions(command: Command): Command {
  return command
    .addOption(
      new Option(
        '--kubeconfig <path>',
        'kubeconfig file (default: in-cluster, $KUBECONFIG, ~/.kube/config)',
      ),
    )
    .addOption(
      new Option(
        '--server <url>',
        "cvm's REST API (the ops port) instead of Kubernetes; token in CVM_TOKEN",
      ).conflicts('kubeconfig'),
    );
}

/** The access the options ask for: cvm's REST API with `--server`, else the Kubernetes API. */
export function accessFor(options: AccessOptions, io: CliIo): ContainerVersionAccess {
  return usageOnAccessError(() =>
    options.server
      ? new RestContainerVersionAccess({
          server: options.server,
          ...(io.env.CVM_TOKEN ? { token: io.env.CVM_TOKEN } : {}),
        })
      : new KubeContainerVersionAccess({
          ...(options.kubeconfig ? { kubeconfigPath: options.kubeconfig } : {}),
          env: io.env,
        }),
  );
}

/** Runs `work`; an {@link AccessError} ends the CLI with exit 2 (usage) or 1. */
export function usageOnAccessError<T>(work: () => T): T {
  try {
    return work();
  } catch (error) {
    throw toCliExit(error);
  }
}

/** An {@link AccessError} as a {@link CliExit}; other errors unchanged. */
export function toCliExit(error: unknown): unknown {
  if (error instanceof AccessError)
    return new CliExit(error.usage ? ExitCode.Usage : ExitCode.Failure, error.message);
  return error;
}

/** Awaits `work`; an {@link AccessError} becomes a {@link CliExit}. */
export async function guarded<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw toCliExit(error);
  }
}
