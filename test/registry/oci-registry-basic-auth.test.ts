import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OciRegistryClient } from '../../src/registry/oci-registry-client.js';
import { RegistryAuthError } from '../../src/registry/registry-client.js';
import { DockerRegistry } from '../support/docker-registry.js';
import { skopeoPush, writeOciImage } from '../support/oci-layout.js';

const user = { username: 'deployer', password: 'hunter2-but-longer' };
let registry: DockerRegistry;

beforeAll(async () => {
  registry = await DockerRegistry.start(undefined, { htpasswd: user });
});
afterAll(async () => {
  await registry?.stop();
});

describe('OciRegistryClient against docker-registry with htpasswd (Basic) auth', () => {
  it('answers the Basic challenge with the credentials for the host and reads tags and labels', async () => {
    const repo = { registry: registry.host, repository: 'basic-auth/app' };
    const image = writeOciImage('1.0.0', { labels: { team: 'payments' } });
    skopeoPush(image, `${registry.host}/${repo.repository}:1.0.0`, {
      destCreds: `${user.username}:${user.password}`,
    });
    const outcomes: string[] = [];
    const oci = new OciRegistryClient({
      credentials: (host) => (host === registry.host ? user : undefined),
      onRequest: (_h, method, outcome) => outcomes.push(`${method} ${outcome}`),
    });

    expect((await oci.resolveTag(repo, '1.0.0'))?.digest).toBe(image.manifestDigest);
    expect((await oci.describe(repo, image.manifestDigest)).labels).toEqual({ team: 'payments' });
    expect(await oci.tagsOf(repo, image.manifestDigest, () => true)).toEqual(['1.0.0']);
    // Challenged once; afterwards Basic goes out up front.
    expect(outcomes.filter((o) => o.endsWith('challenged'))).toEqual(['HEAD challenged']);
  });

  it('without credentials, or with a wrong password, is a permanent RegistryAuthError', async () => {
    const repo = { registry: registry.host, repository: 'basic-auth/app' };
    await expect(new OciRegistryClient().resolveTag(repo, '1.0.0')).rejects.toThrow(
      /asks for Basic auth and no credentials are configured/,
    );
    const wrong = new OciRegistryClient({
      credentials: () => ({ username: user.username, password: 'nope' }),
    });
    const error = await wrong.resolveTag(repo, '1.0.0').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryAuthError);
    expect((error as Error).message).toMatch(/401.*credentials refused/);
  });
});
