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
