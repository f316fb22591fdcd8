import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadKubeConfig } from '../../src/kube/kube-config.js';
import { classifyKubeError } from '../../src/kube/kube-errors.js';
import { startKubeEmulator, type KubeEmulator } from '../kube-emulator/index.js';

let emulator: KubeEmulator;
let dir: string;
let plainHttpPath: string;

beforeAll(async () => {
  emulator = await startKubeEmulator({ port: 0 });
  dir = mkdtempSync(join(tmpdir(), 'cvm-kube-config-'));
  plainHttpPath = join(dir, 'kubeconfig');
  // No insecure-skip-tls-verify: client-node 1.4 alone refuses every request to this server.
  writeFileSync(
    plainHttpPath,
    [
      'apiVersion: v1',
      'kind: Config',
      `clusters: [{ name: c, cluster: { server: '${emulator.url}' } }]`,
      'users: [{ name: u, user: { token: t } }]',
      'contexts: [{ name: ctx, context: { cluster: c, user: u, namespace: shop } }]',
      'current-context: ctx',
    ].join('\n'),
  );
});
afterAll(async () => {
  await emulator?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Starts `server` on a free port and writes a kubeconfig (file `name`) for it; returns its path. */
async function serveWithKubeconfig(server: Server, name: string): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const path = join(dir, name);
  const { port } = server.address() as AddressInfo;
  writeFileSync(
    path,
    [
      'apiVersion: v1',
      'kind: Config',
      `clusters: [{ name: c, cluster: { server: 'http://127.0.0.1:${port}' } }]`,
      'users: [{ name: u, user: { token: t } }]',
      'contexts: [{ name: ctx, context: { cluster: c, user: u } }]',
      'current-context: ctx',
    ].join('\n'),
  );
  return path;
}

describe('loadKubeConfig', () => {
  it('loads the given file and accepts its plain-HTTP server', async () => {
    const kc = loadKubeConfig(plainHttpPath, {});
    expect(kc.getCurrentCluster()).toMatchObject({ server: emulator.url, skipTLSVerify: true });
    expect(kc.getContextObject(kc.getCurrentContext())?.namespace).toBe('shop');
    const namespaces = await kc.makeApiClient(CoreV1Api).listNamespace();
    expect(namespaces.items.map((n) => n.metadata?.name)).toContain('default');
  });

  it('uses the in-cluster service account when KUBERNETES_SERVICE_HOST is set', () => {
    const saved = { ...process.env };
    try {
      process.env.KUBERNETES_SERVICE_HOST = '10.96.0.1';
      process.env.KUBERNETES_SERVICE_PORT = '443';
      const kc = loadKubeConfig(undefined);
      expect(kc.getCurrentCluster()).toMatchObject({
        name: 'inCluster',
        server: 'https://10.96.0.1:443',
        skipTLSVerify: false,
      });
    } finally {
      process.env = saved;
    }
  });

  it('falls back to the default chain ($KUBECONFIG) without a path or a service host', () => {
    const saved = { ...process.env };
    try {
      delete process.env.KUBERNETES_SERVICE_HOST;
      process.env.KUBECONFIG = plainHttpPath;
      const kc = loadKubeConfig('');
      expect(kc.getCurrentCluster()).toMatchObject({ server: emulator.url, skipTLSVerify: true });
    } finally {
      process.env = saved;
    }
  });

  it("sends the API clients' requests over one kept-alive connection, not one each", async () => {
    let connections = 0;
    const server = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ kind: 'NamespaceList', apiVersion: 'v1', items: [] }));
    });
    server.on('connection', () => connections++);
    const path = await serveWithKubeconfig(server, 'counting');
    try {
      const core = loadKubeConfig(path, {}, 5_000).makeApiClient(CoreV1Api);
      for (let i = 0; i < 3; i++) await core.listNamespace();
      expect(connections).toBe(1);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('bounds each request by the timeout, a body that never ends included, and answers in time pass', async () => {
    // GET /api/v1/namespaces answers at once; /api/v1/nodes never answers; /api/v1/pods sends
    // its headers and part of a body, then nothing.
    const server = createServer((req, res) => {
      if (req.url?.startsWith('/api/v1/namespaces')) {
        res.setHeader('content-type', 'application/json');
        return void res.end(JSON.stringify({ kind: 'NamespaceList', apiVersion: 'v1', items: [] }));
      }
      if (req.url?.startsWith('/api/v1/pods')) {
        res.setHeader('content-type', 'application/json');
        res.flushHeaders();
        res.write('{"kind":"PodList","items":[');
      }
    });
    const path = await serveWithKubeconfig(server, 'hanging');
    try {
      const core = loadKubeConfig(path, {}, 300).makeApiClient(CoreV1Api);
      // Answers well within the bound are not cut short, however many there are.
      for (let i = 0; i < 5; i++)
        await expect(core.listNamespace()).resolves.toMatchObject({ items: [] });
      await new Promise((r) => setTimeout(r, 400));
      await expect(core.listNamespace()).resolves.toMatchObject({ items: [] });
      for (const call of [() => core.listNode(), () => core.listPodForAllNamespaces()]) {
        const error = (await call().catch((e: unknown) => e)) as Error;
        expect(error.name).toBe('AbortError');
        expect(classifyKubeError(error).transient).toBe(true);
      }
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
