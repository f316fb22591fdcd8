import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { containerVersionCrdYaml } from '../api/crd.js';
import { describeConfig, type ConfigValue } from '../config/config.js';
import { CliExit, ExitCode } from './cli-exit.js';
import { loadConfigOrExit } from './load-config.js';
import { containerVersionCommands } from './cv-commands.js';
import { manifestsAllCommand } from './manifests-all-command.js';
import { promoteCommand } from './promote-command.js';
import { queueCommand } from './queue-command.js';
import { roleCommands } from './role-commands.js';
import { waitCommand } from './wait-command.js';

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
}

function packageVersion(): string {
  // src/cli and dist/cli are both two levels below the package root.
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

function configCommand(io: CliIo): Command {
  return new Command('config')
    .description('print the effective configuration (secrets masked) and exit 2 if it is invalid')
    .option('--json', 'print JSON instead of a table')
    .action((options: { json?: boolean }) => {
      const entries = describeConfig(loadConfigOrExit(io.env));
      if (options.json) {
        io.out(
          `${JSON.stringify(Object.fromEntries(entries.map((e) => [e.env, e.value ?? null])), null, 2)}\n`,
        );
        return;
      }
      const width = Math.max(...entries.map((e) => e.env.length));
      const show = (value: ConfigValue) =>
        value === undefined || (Array.isArray(value) && value.length === 0)
          ? '(unset)'
          : String(value);
      for (const e of entries) io.out(`${e.env.padEnd(width)}  ${show(e.value)}\n`);
    });
}

function manifestsCommand(io: CliIo): Command {
  const manifests = new Command('manifests').description(
    'print Kubernetes manifests to install cvm',
  );
  manifests
    .command('crd')
    .description('the ContainerVersion CustomResourceDefinition (as infra/kubernetes/crd.yaml)')
    .action(() => io.out(containerVersionCrdYaml()));
  manifests.addCommand(manifestsAllCommand(io.out, packageVersion()));
  return manifests;
}

const EXIT_CODES_HELP = `
Exit codes: 0 done; 1 failed (a rollout failed or was rolled back, a digest is known bad, a
request was refused); 2 bad usage or configuration, an unknown ContainerVersion, an unreachable
cluster or server, a refused token; 3 a wait timed out.
ContainerVersion commands read the Kubernetes API (--kubeconfig, in-cluster, $KUBECONFIG,
~/.kube/config) or cvm's REST API (--server URL, token in CVM_TOKEN).
`;

/** The `cvm` command tree. Commands write through `io`, so they can be tested in-process too. */
export function buildProgram(io: CliIo): Command {
  const program = new Command('cvm')
    .description('push-driven continuous delivery for Kubernetes')
    .version(packageVersion(), '-V, --version', 'print the version')
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride()
    .showHelpAfterError()
    // Program options only before the subcommand: `cvm wait --version V` is the wait's option.
    .enablePositionalOptions();
  program
    .command('version')
    .description('print the version of cvm and of Node.js')
    .action(() => io.out(`cvm ${packageVersion()} (node ${process.version})\n`));
  program.addCommand(configCommand(io));
  program.addCommand(manifestsCommand(io));
  program.addCommand(queueCommand(io));
  program.addCommand(promoteCommand(io));
  program.addCommand(waitCommand(io));
  for (const command of containerVersionCommands(io)) program.addCommand(command);
  for (const command of roleCommands(io.env)) program.addCommand(command);
  program.addHelpText('after', EXIT_CODES_HELP);
  inheritSettings(program);
  return program;
}

/**
 * `addCommand` does not pass the program's settings on (only `.command()` does): without them a
 * subcommand's usage error would print to the real stderr and exit the process with code 1.
 */
function inheritSettings(parent: Command): void {
  for (const command of parent.commands) {
    command.copyInheritedSettings(parent);
    inheritSettings(command);
  }
}

/** Runs the CLI and returns the exit code; never throws for expected failures. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    await buildProgram(io).parseAsync([...argv], { from: 'user' });
    return ExitCode.Ok;
  } catch (error) {
    if (error instanceof CliExit) {
      io.err(`cvm: ${error.message}\n`);
      return error.exitCode;
    }
    if (error instanceof CommanderError) {
      // Help and version are "errors" with exit code 0 under exitOverride.
      return error.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
    }
    io.err(`cvm: ${error instanceof Error ? error.message : String(error)}\n`);
    return ExitCode.Failure;
  }
}
