import { Command } from 'commander';
import { loadConfigOrExit } from './load-config.js';
import type { Roles } from './run-roles.js';

const ROLE_COMMANDS: { name: string; description: string; roles: Roles }[] = [
  {
    name: 'serve',
    description:
      'run every role in one process: receiver, workers and reconciler (small clusters, the demo)',
    roles: { receiver: true, worker: true, reconciler: true },
  },
  {
    name: 'receiver',
    description: 'serve registry webhooks (and the ECR SQS queue) and enqueue push events',
    roles: { receiver: true, worker: false, reconciler: false },
  },
  {
    name: 'worker',
    description: 'route push events to ContainerVersions and run their rollouts',
    roles: { receiver: false, worker: true, reconciler: false },
  },
  {
    name: 'reconciler',
    description: 'lead (Lease), sync changed ContainerVersions, poll due repo:tags, heal drift',
    roles: { receiver: false, worker: false, reconciler: true },
  },
];

/** The names of the role commands: `serve`, `receiver`, `worker`, `reconciler`. */
export const ROLE_COMMAND_NAMES: readonly string[] = ROLE_COMMANDS.map((c) => c.name);

/**
 * `cvm serve|receiver|worker|reconciler`: each runs until SIGTERM/SIGINT. The composition root is
 * loaded when one runs, and it loads only the modules of the roles it runs.
 */
export function roleCommands(env: NodeJS.ProcessEnv): Command[] {
  return ROLE_COMMANDS.map(({ name, description, roles }) =>
    new Command(name).description(description).action(async () => {
      const config = loadConfigOrExit(env);
      const { runRoles } = await import('./run-roles.js');
      await runRoles(config, roles);
    }),
  );
}
