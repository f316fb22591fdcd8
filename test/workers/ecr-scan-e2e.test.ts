import { readFileSync } from 'node:fs';
import {
  CreateRepositoryCommand,
  ECRClient,
  PutImageCommand,
  StartImageScanCommand,
} from '@aws-sdk/client-ecr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClients } from '../../src/registry/registry-clients.js';
import {
  containerVersion,
  deployment,
  namespace,
  startCvmStack,
  type CvmStack,
} from '../support/cvm-stack.js';
import { MOTO_AWS, MotoServer } from '../support/moto-server.js';
import { skopeoPush, writeOciImage } from '../support/oci-layout.js';
import { waitFor } from '../support/wait-for.js';

const HOST = '123456789012.dkr.ecr.us-east-1.amazonaws.com';
const API_KEY = 'ecr-api-destination-key-0123456789';
let moto: MotoServer;
let stack: CvmStack;
let admin: ECRClient;

beforeAll(async () => {
  moto = await MotoServer.start();
  admin = new ECRClient({ ...MOTO_AWS, endpoint: moto.endpoint });
  stack = await startCvmStack({
    env: { CVM_ECR_API_KEYS: API_KEY },
    // moto serves the ECR API but not ECR's /v2: docker-registry holds the same manifests for that.
    registries: (v2) =>
      new RegistryClients({
        ecr: {
          ecrClient: (region) =>
            new ECRClient({ region, credentials: MOTO_AWS.credentials, endpoint: moto.endpoint }),
          v2Host: (host) => (host === HOST ? v2.host : host),
        },
      }),
  });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  admin?.destroy();
  await moto?.stop();
});

/** Pushes one image to ECR (moto: PutImage + a scan) and the same bytes to the /v2 stand-in. */
async function pushToEcr(repository: string, tags: string[]): Promise<string> {
  const image = writeOciImage(tags[0]!, { files: { 'app/x': repository } });
  skopeoPush(image, `${stack.registry.host}/${repository}:${tags[0]}`);
  const dir = image.reference.slice('oci:'.length).replace(/:[^:]*$/, '');
  const manifest = readFileSync(
    `${dir}/blobs/sha256/${image.manifestDigest.slice('sha256:'.length)}`,
    'utf8',
  );
  for (const tag of tags) {
    await admin.send(
      new PutImageCommand({
        repositoryName: repository,
        imageManifest: manifest,
        imageManifestMediaType: 'application/vnd.oci.image.manifest.v1+json',
        imageDigest: image.manifestDigest,
        imageTag: tag,
      }),
    );
  }
  await admin.send(
    new StartImageScanCommand({
      repositoryName: repository,
      imageId: { imageDigest: image.manifestDigest },
    }),
  );
  return image.manifestDigest;
}

async function postEcrPush(
  repository: string,
  tag: string,
  digest: string,
  id: string,
): Promise<number> {
  const event = {
    version: '0',
    id,
    'detail-type': 'ECR Image Action',
    source: 'aws.ecr',
    account: '123456789012',
    time: '2026-11-27T10:00:00Z',
    region: 'us-east-1',
    resources: [],
    detail: {
      result: 'SUCCESS',
      'repository-name': repository,
      'image-digest': digest,
      'action-type': 'PUSH',
      'image-tag': tag,
    },
  };
  const response = await fetch(`${stack.receiver.url}/webhooks/ecr`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': API_KEY },
    body: JSON.stringify(event),
  });
  return response.status;
}

const spec = (maxSeverity: string) => ({
  imageRepo: `${HOST}/shop/api`,
  tag: 'prod',
  versionPattern: '^v[0-9.]+$',
  selector: { app: 'api' },
  container: 'api',
  pollIntervalSeconds: 0,
  policy: { maxSeverity },
});

describe('ECR (moto): the vulnerability scan gates the rollout', () => {
  it('findings above maxSeverity block the rollout with a readable reason; within it, the image rolls out', async () => {
    await admin.send(new CreateRepositoryCommand({ repositoryName: 'shop/api' }));
    await stack.apply([
      namespace('strict'),
      namespace('lenient'),
      deployment('strict', 'api', 'example.com/old/api:1'),
      deployment('lenient', 'api', 'example.com/old/api:1'),
      containerVersion('strict', 'api', spec('MEDIUM')),
      containerVersion('lenient', 'api', spec('HIGH')),
    ]);
    const digest = await pushToEcr('shop/api', ['v1.0.0', 'prod']);
    expect(
      await postEcrPush('shop/api', 'prod', digest, '5f0e1f47-3c33-4d2b-9d9a-7f4d8a1c0001'),
    ).toBe(202);

    const blocked = await stack.rolloutOf('strict', 'api', digest);
    expect(blocked.status.lastRollout.result).toBe('Failed');
    const degraded = blocked.status.conditions.find((c: any) => c.type === 'Degraded');
    expect(degraded).toMatchObject({ status: 'True', reason: 'VulnerabilitiesFound' });
    expect(degraded.message).toBe(
      `v1.0.0 (${digest}) was not rolled out: the scan found 1 HIGH finding(s), above spec.policy.maxSeverity MEDIUM`,
    );
    expect(blocked.status.failedDigests).toEqual([digest]);
    expect(JSON.stringify((await stack.deployment('strict', 'api')).spec)).not.toContain(digest);

    const rolled = await stack.rolloutOf('lenient', 'api', digest);
    expect(rolled.status).toMatchObject({
      currentVersion: 'v1.0.0',
      currentImage: `${HOST}/shop/api:v1.0.0@${digest}`,
    });
    await waitFor(
      async () => JSON.stringify((await stack.deployment('lenient', 'api')).spec).includes(digest),
      'the lenient rollout',
    );
    const events = JSON.parse(
      (await stack.kubectl(['get', 'events', '-n', 'strict', '-o', 'json'])).stdout,
    ).items;
    expect(
      events.some((e: any) => e.reason === 'VulnerabilitiesFound' && e.type === 'Warning'),
    ).toBe(true);
  }, 90_000);
});
