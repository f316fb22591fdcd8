import { ConfigError, loadConfig, type Config } from '../config/config.js';
import { CliExit, ExitCode } from './cli-exit.js';

/** The configuration, or a {@link CliExit} with exit code 2 naming every bad key. */
export function loadConfigOrExit(env: NodeJS.ProcessEnv): Config {
  try {
    return loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) throw new CliExit(ExitCode.Usage, error.message);
    throw error;
  }
}
