/** Exit codes of the CLI: 0 success, 1 failure, 2 bad usage or bad configuration. */
export const ExitCode = { Ok: 0, Failure: 1, Usage: 2 } as const;

/** Thrown by commands to end with an exit code and a message on stderr. */
export class CliExit extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
  }
}
