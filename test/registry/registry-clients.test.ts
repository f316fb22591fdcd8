import { describe, expect, it } from 'vitest';
import { EcrRegistryClient } from '../../src/registry/ecr-registry-client.js';
import { OciRegistryClient } from '../../src/registry/oci-registry-client.js';
import { RegistryClients } from '../../src/registry/registry-clients.js';

describe('RegistryClients', () => {
  const clients = new RegistryClients();

  it.each([
    ['123456789012.dkr.ecr.eu-west-1.amazonaws.com', EcrRegistryClient],
    ['123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn', EcrRegistryClient],
    ['123456789012.DKR.ECR.eu-west-1.amazonaws.com', EcrRegistryClient],
    ['docker.io', OciRegistryClient],
    ['ghcr.io', OciRegistryClient],
    ['public.ecr.aws', OciRegistryClient],
    ['127.0.0.1:5000', OciRegistryClient],
  ])('%s gets the %o', (host, kind) => {
    expect(clients.for(host)).toBeInstanceOf(kind);
  });

  it('hands out one client per kind, so token caches are shared', () => {
    expect(clients.for('ghcr.io')).toBe(clients.for('quay.io'));
    expect(clients.for('123456789012.dkr.ecr.eu-west-1.amazonaws.com')).toBe(
      clients.for('210987654321.dkr.ecr.us-east-1.amazonaws.com'),
    );
    clients.stop();
    clients.stop();
  });
});
