import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { RegistryCredentials } from './registry-client.js';

/** Looks up the credentials of a registry host (as in image refs: `docker.io`, `ghcr.io`, `127.0.0.1:5000`). */
export type CredentialLookup = (registryHost: string) => RegistryCredentials | undefined;

/** A `.dockerconfigjson` that cannot be read; the message names the field. */
export class DockerConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DockerConfigError';
  }
}

const DOCKER_HUB_ALIASES = new Set([
  'index.docker.io',
  'registry-1.docker.io',
  'registry.hub.docker.com',
  'docker.io',
]);

/**
 * The registry host of an `auths` key: scheme and path dropped, lower-cased, Docker Hub's
 * names (`https://index.docker.io/v1/`, `registry-1.docker.io`) folded into `docker.io`.
 */
export function normalizeRegistryHost(key: string): string {
  const host = key
    .trim()
    .replace(/^[a-z][a-z0-9+.-]*:\/\//i, '')
    .replace(/\/.*$/, '')
    .toLowerCase();
  return DOCKER_HUB_ALIASES.has(host) ? 'docker.io' : host;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function entryCredentials(entry: unknown, field: string): RegistryCredentials {
  if (!isRecord(entry)) throw new DockerConfigError(`${field} must be an object`);
  const { username, password, auth } = entry;
  if (typeof username === 'string' && typeof password === 'string' && username !== '') {
    return { username, password };
  }
  if (auth === undefined) {
    throw new DockerConfigError(`${field} needs "username" and "password", or "auth"`);
  }
  if (typeof auth !== 'string')
    throw new DockerConfigError(`${field}.auth must be a base64 string`);
  const decoded = Buffer.from(auth, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (!/^[A-Za-z0-9+/]+=*$/.test(auth.trim()) || colon <= 0) {
    throw new DockerConfigError(`${field}.auth must be base64 of "username:password"`);
  }
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/**
 * Credentials per normalized host from the JSON of a `.dockerconfigjson` (`{auths: {host: …}}`).
 * Two keys for one host: the later wins. @throws DockerConfigError naming the bad field.
 */
export function parseDockerConfigJson(json: string): Map<string, RegistryCredentials> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (error) {
    throw new DockerConfigError(`.dockerconfigjson is not JSON: ${(error as Error).message}`);
  }
  if (!isRecord(parsed)) throw new DockerConfigError('.dockerconfigjson must be a JSON object');
  if (!isRecord(parsed.auths))
    throw new DockerConfigError('.dockerconfigjson.auths must be an object');
  const result = new Map<string, RegistryCredentials>();
  for (const [key, entry] of Object.entries(parsed.auths)) {
    const host = normalizeRegistryHost(key);
    if (!host)
      throw new DockerConfigError(
        `.dockerconfigjson.auths has an empty registry key ${JSON.stringify(key)}`,
      );
    result.set(host, entryCredentials(entry, `.dockerconfigjson.auths[${JSON.stringify(key)}]`));
  }
  return result;
}

/**
 * A lookup over the `.dockerconfigjson` data of `kubernetes.io/dockerconfigjson` Secrets, as the
 * API returns it (base64). Earlier Secrets win for a host, as for a Pod's imagePullSecrets.
 * @throws DockerConfigError naming the Secret's position and field
 */
export function dockerConfigLookup(secretsData: readonly string[]): CredentialLookup {
  const merged = new Map<string, RegistryCredentials>();
  secretsData.forEach((base64, i) => {
    let credentials: Map<string, RegistryCredentials>;
    try {
      credentials = parseDockerConfigJson(Buffer.from(base64, 'base64').toString('utf8'));
    } catch (error) {
      const prefix = secretsData.length > 1 ? `secret ${i + 1}: ` : '';
      throw new DockerConfigError(`${prefix}${(error as Error).message}`);
    }
    for (const [host, value] of credentials) if (!merged.has(host)) merged.set(host, value);
  });
  return (registryHost) => merged.get(normalizeRegistryHost(registryHost));
}

/** Runs `docker-credential-<helper> get` with the server URL on stdin; resolves to its stdout, `null` when it has none. */
export type CredentialHelperRunner = (helper: string, serverUrl: string) => string | null;

export interface DockerConfigFileOptions {
  /** The config file; default `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`. */
  path?: string;
  /** Environment for `DOCKER_CONFIG`, `HOME` and the helpers' `PATH`. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Runs credential helpers. Default: executes `docker-credential-<name> get` (10 s timeout). */
  runHelper?: CredentialHelperRunner;
}

/** Where the Docker CLI keeps its config: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`. */
export function dockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env.DOCKER_CONFIG || join(env.HOME || homedir(), '.docker');
  return join(dir, 'config.json');
}

/** The server URL a helper is asked about: Docker Hub's historical key, else the host. */
const helperServerUrl = (host: string) =>
  host === 'docker.io' ? 'https://index.docker.io/v1/' : host;

function execHelper(env: NodeJS.ProcessEnv): CredentialHelperRunner {
  return (helper, serverUrl) => {
    try {
      return execFileSync(`docker-credential-${helper}`, ['get'], {
        input: serverUrl,
        env,
        timeout: 10_000,
        stdio: ['pipe', 'pipe', 'pipe'],
      }).toString('utf8');
    } catch (error) {
      const failed = error as { code?: string; stdout?: Buffer; stderr?: Buffer };
      if (failed.code === 'ENOENT') {
        throw new DockerConfigError(
          `credential helper docker-credential-${helper} is not on the PATH`,
        );
      }
      const said = `${failed.stdout?.toString() ?? ''}${failed.stderr?.toString() ?? ''}`.trim();
      // The helpers' common answer for a host they hold nothing for.
      if (/credentials not found/i.test(said)) return null;
      throw new DockerConfigError(
        `credential helper docker-credential-${helper} failed for ${serverUrl}: ${said.slice(0, 200)}`,
      );
    }
  };
}

function helperCredentials(
  run: CredentialHelperRunner,
  helper: string,
  host: string,
): RegistryCredentials | undefined {
  const output = run(helper, helperServerUrl(host));
  if (output === null) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(output);
  } catch {
    throw new DockerConfigError(
      `credential helper docker-credential-${helper} did not answer JSON`,
    );
  }
  if (!isRecord(parsed) || typeof parsed.Username !== 'string' || typeof parsed.Secret !== 'string')
    throw new DockerConfigError(
      `credential helper docker-credential-${helper} answered without "Username" and "Secret"`,
    );
  return { username: parsed.Username, password: parsed.Secret };
}

/**
 * A lookup over the Docker CLI's config file, as `docker login` leaves it: for a host,
 * `credHelpers[host]`, else `auths[host]` (`auth` or `username`/`password`; an empty entry
 * is skipped), else the `credsStore` helper. Helpers are asked once per host. A missing file
 * means no credentials. @throws DockerConfigError naming the file and the field
 */
export function dockerConfigFileLookup(options: DockerConfigFileOptions = {}): CredentialLookup {
  const env = options.env ?? process.env;
  const path = options.path ?? dockerConfigPath(env);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && options.path === undefined)
      return () => undefined;
    throw new DockerConfigError(`${path} cannot be read: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new DockerConfigError(`${path} is not JSON: ${(error as Error).message}`);
  }
  if (!isRecord(parsed)) throw new DockerConfigError(`${path} must be a JSON object`);
  const auths = new Map<string, RegistryCredentials>();
  if (parsed.auths !== undefined) {
    if (!isRecord(parsed.auths)) throw new DockerConfigError(`${path}: auths must be an object`);
    for (const [key, entry] of Object.entries(parsed.auths)) {
      if (isRecord(entry) && Object.keys(entry).length === 0) continue;
      auths.set(
        normalizeRegistryHost(key),
        entryCredentials(entry, `${path}: auths[${JSON.stringify(key)}]`),
      );
    }
  }
  const helpers = new Map<string, string>();
  if (parsed.credHelpers !== undefined) {
    if (!isRecord(parsed.credHelpers))
      throw new DockerConfigError(`${path}: credHelpers must be an object`);
    for (const [key, helper] of Object.entries(parsed.credHelpers)) {
      if (typeof helper !== 'string' || helper === '')
        throw new DockerConfigError(`${path}: credHelpers[${JSON.stringify(key)}] must be a name`);
      helpers.set(normalizeRegistryHost(key), helper);
    }
  }
  const store = parsed.credsStore;
  if (store !== undefined && (typeof store !== 'string' || store === ''))
    throw new DockerConfigError(`${path}: credsStore must be a name`);
  const run = options.runHelper ?? execHelper(env);
  const asked = new Map<string, RegistryCredentials | undefined>();
  return (registryHost) => {
    const host = normalizeRegistryHost(registryHost);
    if (asked.has(host)) return asked.get(host);
    const helper = helpers.get(host);
    const found = helper
      ? helperCredentials(run, helper, host)
      : (auths.get(host) ?? (store ? helperCredentials(run, store, host) : undefined));
    asked.set(host, found);
    return found;
  };
}
