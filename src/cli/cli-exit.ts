/**
 * Exit codes of the CLI: 0 success, 1 failure (a rollout failed, a request was refused), 2 bad
 * usage or configuration (also an unknown ContainerVersion or an unreachable cluster or server),
 * 3 a wait timed out.
 */
export const ExitCode = { Ok: 0, Failure: 1, Usage: 2, Timeout: 3 } as const;

/** Thrown by commands to end with an exit code and a message on stderr. */
export class CliExit extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
  }
}
