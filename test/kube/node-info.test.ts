import { pino } from 'pino';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeNodeInfo } from '../../src/kube/node-info.js';
import { startKubeTestEnv, type KubeTestEnv } from './kube-test-env.js';

let env: KubeTestEnv;

beforeAll(async () => {
  env = await startKubeTestEnv({ nodes: ['node-a', 'node-b', 'node-c'] });
});
afterAll(async () => {
  await env?.stop();
});

describe('KubeNodeInfo', () => {
  it('lists the distinct architectures of the nodes, sorted', async () => {
    const nodeInfo = new KubeNodeInfo({
      kubeConfig: env.kubeConfig,
      logger: pino({ level: 'silent' }),
      cacheMs: 0,
    });
    expect(await nodeInfo.architectures()).toEqual(['amd64']);
    await env.core.patchNodeStatus(
      {
        name: 'node-b',
        body: { status: { nodeInfo: { architecture: 'arm64', operatingSystem: 'linux' } } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect(await nodeInfo.architectures()).toEqual(['amd64', 'arm64']);
  });

  it('answers [] when RBAC forbids listing nodes, and throws on other failures', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(line) });
    const nodeInfo = new KubeNodeInfo({ kubeConfig: env.kubeConfig, logger, cacheMs: 0 });
    env.emulator.faults.inject({
      method: 'GET',
      pathPattern: /^\/api\/v1\/nodes/,
      status: 403,
      times: 2,
    });
    expect(await nodeInfo.architectures()).toEqual([]);
    expect(await nodeInfo.architectures()).toEqual([]);
    expect(lines.filter((l) => l.includes('platform check is skipped'))).toHaveLength(1);
    env.emulator.faults.inject({ method: 'GET', pathPattern: /^\/api\/v1\/nodes/, status: 503 });
    await expect(nodeInfo.architectures()).rejects.toMatchObject({ status: 503, transient: true });
  });

  it('reuses an answer for cacheMs: rollouts at once cost one node list', async () => {
    const nodeInfo = new KubeNodeInfo({
      kubeConfig: env.kubeConfig,
      logger: pino({ level: 'silent' }),
      cacheMs: 60_000,
    });
    const lists = () =>
      env.emulator.requests.filter((r) => r.method === 'GET' && r.path === '/api/v1/nodes').length;
    const before = lists();
    const answers = await Promise.all(Array.from({ length: 20 }, () => nodeInfo.architectures()));
    expect(new Set(answers.map((a) => a.join()))).toEqual(new Set([answers[0]!.join()]));
    expect(await nodeInfo.architectures()).toEqual(answers[0]);
    expect(lists() - before).toBe(1);
  });
});
