import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  containerVersion,
  deployment,
  namespace,
  startCvmStack,
  type CvmStack,
} from '../support/cvm-stack.js';
import { cosignSign, ecKeys, pem } from '../support/cosign.js';

const keys = ecKeys();
let stack: CvmStack;

beforeAll(async () => {
  stack = await startCvmStack({ cosignPublicKey: pem(keys.publicKey) });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

describe('with a cosign public key configured', () => {
  it('an unsigned image is refused with a reason; an image signed with the key rolls out', async () => {
    await stack.apply([
      namespace('signed'),
      deployment('signed', 'api', 'example.com/old/api:1'),
      containerVersion('signed', 'api', {
        imageRepo: stack.repo,
        tag: 'prod',
        versionPattern: '^sha-',
        selector: { app: 'api' },
        container: 'api',
        pollIntervalSeconds: 0,
      }),
    ]);
    const unsigned = stack.push(['sha-0000aaa', 'prod']);
    const refused = await stack.rolloutOf('signed', 'api', unsigned);
    expect(refused.status.lastRollout.result).toBe('Failed');
    expect(refused.status.conditions.find((c: any) => c.type === 'Degraded')).toMatchObject({
      reason: 'SignatureInvalid',
      message: expect.stringContaining('no signature'),
    });

    // Sign the image before the tag CI moves points at it (the same content is the same digest).
    const signed = stack.push(['sha-0000bbb'], { content: 'signed' });
    await cosignSign(stack.registry.host, 'team/api', signed, keys.privateKey);
    expect(stack.push(['prod'], { content: 'signed' })).toBe(signed);
    const rolled = await stack.rolloutOf('signed', 'api', signed);
    expect(rolled.status).toMatchObject({ currentVersion: 'sha-0000bbb', currentDigest: signed });
  }, 60_000);
});
