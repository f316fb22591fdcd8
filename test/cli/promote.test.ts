import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  CreateRepositoryCommand,
  DescribeImagesCommand,
  ECRClient,
  PutImageCommand,
} from '@aws-sdk/client-ecr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { loadConfig } from '../../src/config/config.js';
import { HttpServer } from '../../src/lifecycle/http-server.js';
import { webhookSources } from '../../src/receiver/sources.js';
import { createWebhookApp } from '../../src/receiver/webhook-app.js';
import { OciRegistryClient } from '../../src/registry/oci-registry-client.js';
import { DockerRegistry } from '../support/docker-registry.js';
import { MOTO_AWS, MotoServer } from '../support/moto-server.js';
import { skopeoPush, writeOciImage, writeOciIndex } from '../support/oci-layout.js';
import { receiverParts } from '../support/receiver-parts.js';
import { TokenService } from '../support/token-service.js';
import { waitFor } from '../support/wait-for.js';

const TOKEN = 'promote-notify-token-0123456789';
const user = { username: 'ci', password: 'promote-password-123' };
const ECR_HOST = `123456789012.dkr.ecr.${MOTO_AWS.region}.amazonaws.com`;
const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

let parts: Awaited<ReturnType<typeof receiverParts>>;
let server: HttpServer;
let open: DockerRegistry;
let locked: DockerRegistry;
let tokens: TokenService;
let tokened: DockerRegistry;
let moto: MotoServer;
let ecrAdmin: ECRClient;
const home = mkdtempSync(join(tmpdir(), 'cvm-promote-home-'));

beforeAll(async () => {
  parts = await receiverParts();
  const config = loadConfig({ CVM_DISTRIBUTION_TOKENS: TOKEN });
  server = new HttpServer({
    name: 'webhooks',
    port: 0,
    host: '127.0.0.1',
    handler: createWebhookApp({
      sources: webhookSources(config),
      ingest: parts.ingest,
      metrics: parts.metrics,
      bodyLimitBytes: config.webhookBodyLimitBytes,
    }),
  });
  await server.start();
  tokens = await TokenService.start(user);
  [open, locked, moto, tokened] = await Promise.all([
    DockerRegistry.start({
      url: `${server.url}/webhooks/distribution`,
      headers: { Authorization: [`Bearer ${TOKEN}`] },
    }),
    DockerRegistry.start(undefined, { htpasswd: user }),
    MotoServer.start(),
    DockerRegistry.start(undefined, {
      token: {
        realm: tokens.realm,
        service: TokenService.service,
        issuer: TokenService.issuer,
        rootCertBundle: tokens.rootCertBundle,
      },
    }),
  ]);
  ecrAdmin = new ECRClient({ ...MOTO_AWS, endpoint: moto.endpoint });
}, 30_000);

afterAll(async () => {
  ecrAdmin?.destroy();
  await Promise.all([open?.stop(), locked?.stop(), moto?.stop(), tokened?.stop()]);
  await tokens?.stop();
  await server?.stop();
  await parts?.close();
});

/** `cvm …` in this process; HOME points at an empty directory unless `env` says otherwise. */
async function cvm(args: string[], env: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    out: (t) => (stdout += t),
    err: (t) => (stderr += t),
    env: { HOME: home, PATH: process.env.PATH ?? '', ...env },
  });
  return { code, stdout, stderr };
}

const digestOf = async (registry: DockerRegistry, repository: string, tag: string) =>
  (
    await new OciRegistryClient({ credentials: () => user }).resolveTag(
      { registry: registry.host, repository },
      tag,
    )
  )?.digest;

describe('cvm promote on docker-registry', () => {
  it('moves prod and staging to the digest of a version, then says they are there; the registry notifies the receiver', async () => {
    const image = writeOciImage('sha-1111111');
    skopeoPush(image, `${open.host}/promote/api:sha-1111111`);
    const ref = `${open.host}/promote/api:sha-1111111`;

    const dry = await cvm(['promote', ref, '--tag', 'prod', '--dry-run']);
    expect(dry).toMatchObject({ code: 0, stderr: '' });
    expect(dry.stdout).toBe(
      `would move ${open.host}/promote/api:prod → ${image.manifestDigest} (new tag)\n`,
    );
    expect(await digestOf(open, 'promote/api', 'prod')).toBeUndefined();

    const first = await cvm(['promote', ref, '--tag', 'prod', '--tag', 'staging']);
    expect(first, first.stderr).toMatchObject({ code: 0, stderr: '' });
    expect(first.stdout.trim().split('\n')).toEqual([
      `moved ${open.host}/promote/api:prod → ${image.manifestDigest} (new tag)`,
      `moved ${open.host}/promote/api:staging → ${image.manifestDigest} (new tag)`,
    ]);
    expect(await digestOf(open, 'promote/api', 'prod')).toBe(image.manifestDigest);
    expect(await digestOf(open, 'promote/api', 'staging')).toBe(image.manifestDigest);
    const event = await waitFor(async () => {
      const jobs = await parts.jobs();
      return jobs.find((j) => j.data.kind === 'push' && j.data.tag === 'prod')?.data;
    }, 'the push event of prod');
    expect(event).toMatchObject({
      source: 'distribution',
      registry: open.host,
      repository: 'promote/api',
      tag: 'prod',
      digest: image.manifestDigest,
    });

    const puts = open.requests(/^PUT .*\/manifests\//).length;
    const again = await cvm(['promote', ref, '--tag', 'prod']);
    expect(again).toMatchObject({
      code: 0,
      stdout: `already there ${open.host}/promote/api:prod → ${image.manifestDigest}\n`,
    });
    expect(open.requests(/^PUT .*\/manifests\//)).toHaveLength(puts);
  });

  it('moves a tag from one digest to another, and promotes a multi-platform index byte for byte', async () => {
    const index = writeOciIndex('2.0.0', [{ architecture: 'amd64' }, { architecture: 'arm64' }]);
    skopeoPush(index, `${open.host}/promote/multi:2.0.0`, { all: true });
    const old = writeOciImage('1.0.0');
    skopeoPush(old, `${open.host}/promote/multi:prod`);

    const result = await cvm(['promote', `${open.host}/promote/multi:2.0.0`, '--tag', 'prod']);
    expect(result).toMatchObject({
      code: 0,
      stdout: `moved ${open.host}/promote/multi:prod → ${index.indexDigest} (was ${old.manifestDigest})\n`,
    });
    expect(await digestOf(open, 'promote/multi', 'prod')).toBe(index.indexDigest);
    // By digest works too.
    const byDigest = await cvm([
      'promote',
      `${open.host}/promote/multi@${old.manifestDigest}`,
      '--tag',
      'rollback',
    ]);
    expect(byDigest.code, byDigest.stderr).toBe(0);
    expect(await digestOf(open, 'promote/multi', 'rollback')).toBe(old.manifestDigest);
  });

  it('with htpasswd auth: credentials from the Docker config or a credential helper; none is exit 2 naming the registry', async () => {
    const image = writeOciImage('sha-2222222');
    skopeoPush(image, `${locked.host}/locked/api:sha-2222222`, {
      destCreds: `${user.username}:${user.password}`,
    });
    const ref = `${locked.host}/locked/api:sha-2222222`;

    const none = await cvm(['promote', ref, '--tag', 'prod']);
    expect(none.code).toBe(2);
    expect(none.stderr.trim().split('\n')).toHaveLength(1);
    expect(none.stderr).toContain(`${locked.host} asks for Basic auth and no credentials`);

    const configDir = mkdtempSync(join(tmpdir(), 'cvm-docker-config-'));
    const auth = Buffer.from(`${user.username}:${user.password}`).toString('base64');
    writeFileSync(
      join(configDir, 'config.json'),
      JSON.stringify({ auths: { [locked.host]: { auth } } }),
    );
    const viaFile = await cvm(['promote', ref, '--tag', 'prod'], { DOCKER_CONFIG: configDir });
    expect(viaFile, viaFile.stderr).toMatchObject({ code: 0 });
    expect(viaFile.stdout).toContain(`moved ${locked.host}/locked/api:prod`);

    // A credential helper (credHelpers), as `docker login` with a keychain leaves it.
    const bin = mkdtempSync(join(tmpdir(), 'cvm-helper-'));
    const helper = join(bin, 'docker-credential-cvmtest');
    writeFileSync(
      helper,
      `#!/bin/sh\nread host\n[ "$host" = "${locked.host}" ] || { echo "credentials not found in native keychain"; exit 1; }\n` +
        `echo '{"ServerURL":"${locked.host}","Username":"${user.username}","Secret":"${user.password}"}'\n`,
    );
    chmodSync(helper, 0o755);
    const helperConfig = join(bin, 'config.json');
    writeFileSync(helperConfig, JSON.stringify({ credHelpers: { [locked.host]: 'cvmtest' } }));
    const viaHelper = await cvm(
      ['promote', ref, '--tag', 'staging', '--registry-config', helperConfig],
      { PATH: `${bin}:${process.env.PATH ?? ''}` },
    );
    expect(viaHelper, viaHelper.stderr).toMatchObject({ code: 0 });
    expect(await digestOf(locked, 'locked/api', 'staging')).toBe(image.manifestDigest);

    const wrong = join(bin, 'wrong.json');
    writeFileSync(
      wrong,
      JSON.stringify({
        auths: { [locked.host]: { username: user.username, password: 'not-it' } },
      }),
    );
    const refused = await cvm(['promote', ref, '--tag', 'qa', '--registry-config', wrong]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/401.*credentials refused/);
  });

  it('with token auth: asks the token service for pull,push with the Docker config credentials; anonymous is exit 2', async () => {
    const image = writeOciImage('sha-5555555');
    // Not skopeoPush: a synchronous child would block this process, where the token service runs.
    await promisify(execFile)(
      'skopeo',
      [
        '--insecure-policy',
        'copy',
        '--quiet',
        '--dest-tls-verify=false',
        '--dest-creds',
        `${user.username}:${user.password}`,
        image.reference,
        `docker://${tokened.host}/token/api:sha-5555555`,
      ],
      { timeout: 30_000 },
    );
    const ref = `${tokened.host}/token/api:sha-5555555`;
    const anonymous = await cvm(['promote', ref, '--tag', 'prod']);
    expect(anonymous.code).toBe(2);
    expect(anonymous.stderr.trim().split('\n')).toHaveLength(1);
    expect(anonymous.stderr).toMatch(/401 UNAUTHORIZED.*\(no credentials\)/);

    const configDir = mkdtempSync(join(tmpdir(), 'cvm-docker-config-'));
    const auth = Buffer.from(`${user.username}:${user.password}`).toString('base64');
    writeFileSync(
      join(configDir, 'config.json'),
      JSON.stringify({ auths: { [tokened.host]: { auth } } }),
    );
    const asked = tokens.requests.length;
    const moved = await cvm(['promote', ref, '--tag', 'prod'], { DOCKER_CONFIG: configDir });
    expect(moved, moved.stderr).toMatchObject({
      code: 0,
      stdout: `moved ${tokened.host}/token/api:prod → ${image.manifestDigest} (new tag)\n`,
    });
    // Some request (a client may ask for several scopes at once) asked for push, as the user.
    const requests = tokens.requests.slice(asked);
    expect(
      requests.some(
        (r) =>
          r.user === user.username &&
          // The actions of a scope come in either order (`pull,push` or `push,pull`).
          r.scopes.some(
            (scope) =>
              scope.startsWith('repository:token/api:') &&
              scope.slice('repository:token/api:'.length).split(',').includes('push'),
          ),
      ),
      JSON.stringify(requests),
    ).toBe(true);
  });

  it('bad input exits 2 with one line naming the problem', async () => {
    const image = writeOciImage('sha-3333333');
    skopeoPush(image, `${open.host}/promote/bad:sha-3333333`);
    const cases: [string[], RegExp][] = [
      [
        ['promote', `${open.host}/promote/bad:sha-9999999`, '--tag', 'prod'],
        /promote\/bad:sha-9999999 does not exist/,
      ],
      [
        ['promote', `${open.host}/promote/bad:sha-3333333`, '--tag', 'pr@d'],
        /--tag "pr@d" is not a valid tag/,
      ],
      [['promote', `${open.host}/promote/bad`, '--tag', 'prod'], /names no version/],
      [['promote', `${open.host}/Promote/BAD:x`, '--tag', 'prod'], /invalid image reference/],
      [
        [
          'promote',
          `${open.host}/promote/bad:sha-3333333`,
          '--tag',
          'prod',
          '--registry-config',
          '/nonexistent/config.json',
        ],
        /--registry-config: \/nonexistent\/config.json cannot be read/,
      ],
    ];
    for (const [args, message] of cases) {
      const result = await cvm(args);
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stderr.trim().split('\n'), result.stderr).toHaveLength(1);
      expect(result.stdout).toBe('');
    }
    expect(await digestOf(open, 'promote/bad', 'prod')).toBeUndefined();

    // The real binary exits with the same code.
    const child = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', main, 'promote', `${open.host}/promote/bad:sha-3333333`, '-t', '.x'],
      { env: { PATH: process.env.PATH ?? '', HOME: home }, timeout: 20_000 },
    ).catch((error: { code: number; stderr: string }) => error);
    expect(child).toMatchObject({ code: 2 });
    expect((child as { stderr: string }).stderr).toMatch(/^cvm: --tag "\.x" is not a valid tag/);
  });
});

describe('cvm promote on ECR (moto)', () => {
  it('BatchGetImage + PutImage keeps the digest; a second run says already there; an unknown version is exit 2', async () => {
    await ecrAdmin.send(new CreateRepositoryCommand({ repositoryName: 'promote/ecr' }));
    const image = writeOciImage('sha-4444444');
    const dir = image.reference.slice('oci:'.length).replace(/:[^:]*$/, '');
    const manifest = readFileSync(
      `${dir}/blobs/sha256/${image.manifestDigest.slice('sha256:'.length)}`,
      'utf8',
    );
    await ecrAdmin.send(
      new PutImageCommand({
        repositoryName: 'promote/ecr',
        imageManifest: manifest,
        imageManifestMediaType: 'application/vnd.oci.image.manifest.v1+json',
        imageDigest: image.manifestDigest,
        imageTag: 'sha-4444444',
      }),
    );
    const env = {
      CVM_ECR_ENDPOINT: moto.endpoint,
      AWS_ACCESS_KEY_ID: MOTO_AWS.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: MOTO_AWS.credentials.secretAccessKey,
    };
    const ref = `${ECR_HOST}/promote/ecr:sha-4444444`;

    const first = await cvm(['promote', ref, '--tag', 'prod'], env);
    expect(first, first.stderr).toMatchObject({
      code: 0,
      stdout: `moved ${ECR_HOST}/promote/ecr:prod → ${image.manifestDigest} (new tag)\n`,
    });
    const described = await ecrAdmin.send(
      new DescribeImagesCommand({
        repositoryName: 'promote/ecr',
        imageIds: [{ imageTag: 'prod' }],
      }),
    );
    expect(described.imageDetails?.[0]?.imageDigest).toBe(image.manifestDigest);
    expect(described.imageDetails?.[0]?.imageTags?.sort()).toEqual(['prod', 'sha-4444444']);

    const again = await cvm(['promote', ref, '--tag', 'prod'], env);
    expect(again).toMatchObject({
      code: 0,
      stdout: `already there ${ECR_HOST}/promote/ecr:prod → ${image.manifestDigest}\n`,
    });

    const missing = await cvm(['promote', `${ECR_HOST}/promote/ecr:nope`, '--tag', 'prod'], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/promote\/ecr:nope does not exist/);
  });
});
