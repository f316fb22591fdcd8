import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { describeConfig, type ConfigValue } from '../config/config.js';
import { CliExit, ExitCode } from './cli-exit.js';
import { loadConfigOrExit } from './load-config.js';
import { ROLE_COMMAND_NAMES, roleCommands } from './role-commands.js';

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

async function manifestsCommand(io: CliIo): Promise<Command> {
  const [{ containerVersionCrdYaml }, { manifestsAllCommand }] = await Promise.all([
    import('../api/crd.js'),
    import('./manifests-all-command.js'),
  ]);
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

/**
 * The commands other than `version`, `config` and the roles', in the order `cvm --help` lists
 * them. Loaded only when the command line may need them: their modules bring the Kubernetes
 * client, the registry clients and the queue board, which a role process does not use.
 */
async function toolCommands(io: CliIo): Promise<Command[]> {
  const [manifests, { queueCommand }, { promoteCommand }, { waitCommand }, cv] = await Promise.all([
    manifestsCommand(io),
    import('./queue-command.js'),
    import('./promote-command.js'),
    import('./wait-command.js'),
    import('./cv-commands.js'),
  ]);
  return [
    manifests,
    queueCommand(io),
    promoteCommand(io),
    waitCommand(io),
    ...cv.containerVersionCommands(io),
  ];
}

/** The subcommand `argv` names (its first word that is no option), if any. */
const subcommandOf = (argv: readonly string[]) => argv.find((word) => !word.startsWith('-'));

/**
 * The `cvm` command tree. Commands write through `io`, so they can be tested in-process too. With
 * `argv` naming a role (`cvm receiver …`), the tree holds only what that needs (version, config
 * and the roles), so the process loads no module of the other commands.
 */
export async function buildProgram(io: CliIo, argv?: readonly string[]): Promise<Command> {
  const subcommand = argv ? subcommandOf(argv) : undefined;
  const roleOnly = subcommand !== undefined && ROLE_COMMAND_NAMES.includes(subcommand);
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
  if (!roleOnly) for (const command of await toolCommands(io)) program.addCommand(command);
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
    const program = await buildProgram(io, argv);
    await program.parseAsync([...argv], { from: 'user' });
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
