import { Command } from 'commander';
import { InvalidImageRefError, parseImageRef, type ImageRef } from '../events/image-ref.js';
import { DockerConfigError, dockerConfigFileLookup } from '../registry/docker-config.js';
import {
  ImageNotFoundError,
  OCI_TAG,
  RegistryAuthError,
  RegistryError,
  type TagMove,
} from '../registry/registry-client.js';
import { RegistryClients } from '../registry/registry-clients.js';
import { CliExit, ExitCode } from './cli-exit.js';
import { loadConfigOrExit } from './load-config.js';
import type { CliIo } from './program.js';

interface PromoteOptions {
  tag: string[];
  dryRun?: boolean;
  registryConfig?: string;
}

const collect = (value: string, previous: string[]) => [...previous, value];

/** `<repo>:<version>` or `<repo>@sha256:…`: the repository and the source reference. */
export function parsePromoteSource(text: string): { ref: ImageRef; source: string } {
  let ref: ImageRef;
  try {
    ref = parseImageRef(text);
  } catch (error) {
    if (error instanceof InvalidImageRefError) throw new CliExit(ExitCode.Usage, error.message);
    throw error;
  }
  const source = ref.digest ?? ref.tag;
  if (!source) {
    throw new CliExit(
      ExitCode.Usage,
      `${JSON.stringify(text)} names no version: write <repo>:<version> or <repo>@sha256:…`,
    );
  }
  return { ref, source };
}

/** One line per tag, as people and CI logs read it. */
export function describeMove(repo: string, move: TagMove): string {
  const was = move.previousDigest ? ` (was ${move.previousDigest})` : ' (new tag)';
  switch (move.result) {
    case 'moved':
      return `moved ${repo}:${move.tag} → ${move.digest}${was}`;
    case 'unchanged':
      return `already there ${repo}:${move.tag} → ${move.digest}`;
    case 'would-move':
      return `would move ${repo}:${move.tag} → ${move.digest}${was}`;
  }
}

/** AWS keys given to this command's environment, else the SDK's default chain. */
function awsCredentials(env: NodeJS.ProcessEnv) {
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey } = env;
  if (!accessKeyId || !secretAccessKey) return {};
  return {
    credentials: {
      accessKeyId,
      secretAccessKey,
      ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
    },
  };
}

/** A registry failure as the exit it means: bad input and credentials 2, the rest 1. */
function exitFor(error: unknown, what: string): CliExit {
  if (error instanceof CliExit) return error;
  const message = `${what}: ${(error as Error).message}`;
  if (error instanceof DockerConfigError) return new CliExit(ExitCode.Usage, message);
  if (error instanceof ImageNotFoundError || error instanceof RegistryAuthError)
    return new CliExit(ExitCode.Usage, message);
  if (error instanceof RegistryError && !error.transient)
    return new CliExit(ExitCode.Usage, message);
  return new CliExit(ExitCode.Failure, message);
}

/**
 * `cvm promote <repo>:<version> --tag T…`: points each tag at the manifest (or index) of
 * `<version>`, byte for byte. Credentials: the Docker config (`--registry-config`, else
 * `$DOCKER_CONFIG/config.json` or `~/.docker/config.json`, credential helpers included), the AWS
 * default chain for ECR. Exit 0 when every tag is there, 2 for bad input, unknown versions and
 * refused credentials, 1 when the registry could not be reached.
 */
export function promoteCommand(io: CliIo): Command {
  return new Command('promote')
    .description(
      'point environment tags at the manifest of a version (same digest): OCI manifest PUT, or ECR PutImage',
    )
    .argument('<image>', 'the version to promote: <repo>:<version> or <repo>@sha256:…')
    .requiredOption('-t, --tag <tag>', 'a tag to move (repeatable)', collect, [])
    .option('--dry-run', 'say what would move; write nothing')
    .option(
      '--registry-config <path>',
      'Docker config file with credentials (default $DOCKER_CONFIG/config.json, ~/.docker/config.json)',
    )
    .action(async (image: string, options: PromoteOptions) => {
      const { ref, source } = parsePromoteSource(image);
      if (options.tag.length === 0) throw new CliExit(ExitCode.Usage, 'promote: give --tag');
      for (const tag of options.tag) {
        if (!OCI_TAG.test(tag)) {
          throw new CliExit(
            ExitCode.Usage,
            `--tag ${JSON.stringify(tag)} is not a valid tag: [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`,
          );
        }
      }
      const config = loadConfigOrExit(io.env);
      let credentials;
      try {
        credentials = dockerConfigFileLookup({
          env: io.env,
          ...(options.registryConfig ? { path: options.registryConfig } : {}),
        });
      } catch (error) {
        throw exitFor(error, '--registry-config');
      }
      const registries = new RegistryClients({
        oci: { credentials },
        ecr: {
          ...(config.ecrEndpoint ? { endpoint: config.ecrEndpoint } : {}),
          ...awsCredentials(io.env),
        },
      });
      const repo = { registry: ref.registry, repository: ref.repository };
      const name = `${ref.registry}/${ref.repository}`;
      try {
        const writer = registries.tagWriterFor(ref.registry);
        // After the first tag, the others follow its digest: one read of the version, and every
        // tag ends at the same manifest even if the version tag moves meanwhile.
        let from = source;
        for (const tag of new Set(options.tag)) {
          let move: TagMove;
          try {
            move = await writer.moveTag(repo, from, tag, { dryRun: options.dryRun === true });
            from = move.digest;
          } catch (error) {
            throw exitFor(error, `promote ${image} to ${tag}`);
          }
          io.out(`${describeMove(name, move)}\n`);
        }
      } finally {
        registries.stop();
      }
    });
}
