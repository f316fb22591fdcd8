// Fills a Kubernetes emulator with namespaces, ContainerVersions and Deployments, the way a client
// would (concurrent POSTs over HTTP, kept-alive connections) or straight into its store, for
// benches that need thousands of CVs set up fast. Object i is the Deployment `app-<i>` (labels
// `app: app-<i>`) and the CV `cv-<i>` selecting it, in namespace `<prefix>-<floor(i / perNamespace)>`.
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import type { KubeObject } from '../test/kube-emulator/contract.js';
import type { KubeEmulator } from '../test/kube-emulator/index.js';
import { EMULATOR_TOKEN } from '../test/kube-emulator/kubeconfig.js';

const CRD_PATH = fileURLToPath(new URL('../infra/kubernetes/crd.yaml', import.meta.url));
const CV_RESOURCE = 'containerversions.cvm.dev';
const CV_PATH = '/apis/cvm.dev/v1';

/** An emulator to fill: its URL, and its store for `via: 'store'`. */
export type FillTarget = Pick<KubeEmulator, 'url'> & Partial<Pick<KubeEmulator, 'store'>>;

export interface FillOptions {
  /** ContainerVersions (each with its Deployment) to create. */
  cvs: number;
  /** Index of the first object (to fill in several calls); default 0. */
  from?: number;
  /** CVs a namespace holds; default 1 (one namespace each). `Infinity` puts all in one. */
  perNamespace?: number;
  /** Namespace name prefix; default `fill`. */
  namespacePrefix?: string;
  /** The CVs' `spec.imageRepo`; default `registry.invalid/fill/app`. */
  imageRepo?: string;
  /** The CV's `spec.tag` for object i; default `t<i>`. */
  tagOf?: (i: number) => string;
  /** The CVs' `spec.pollIntervalSeconds`; default 300. */
  pollIntervalSeconds?: number;
  /** The Deployments' replicas; default 1. */
  replicas?: number;
  /** The Deployments' container image; default `example.com/old/app:1`. */
  image?: string;
  /** `http` (default): POSTs to `url`; `store`: `store.create` in this process (fastest). */
  via?: 'http' | 'store';
  /** POSTs in flight at once (`via: 'http'`); default 24. */
  concurrency?: number;
  /** Called after each CV with its Deployment (and namespace) is created, with the count so far. */
  onProgress?: (done: number) => void;
}

export interface FillResult {
  /** Objects created (namespaces, Deployments, CVs). */
  objects: number;
  /** Namespaces created by this call (existing ones are reused). */
  namespaces: string[];
  /** The CVs created, in index order. */
  cvs: { namespace: string; name: string }[];
  ms: number;
}

/** Namespace, Deployment and CV names of object i, as {@link fillEmulator} creates them. */
export function fillNames(
  i: number,
  options: Pick<FillOptions, 'perNamespace' | 'namespacePrefix'> = {},
): { namespace: string; deployment: string; cv: string } {
  const per = options.perNamespace ?? 1;
  const index = Number.isFinite(per) ? Math.floor(i / per) : 0;
  return {
    namespace: `${options.namespacePrefix ?? 'fill'}-${index}`,
    deployment: `app-${i}`,
    cv: `cv-${i}`,
  };
}

/** The Deployment and ContainerVersion of object i. */
export function fillObjects(
  i: number,
  options: Omit<FillOptions, 'cvs'> = {},
): { deployment: KubeObject; cv: KubeObject } {
  const names = fillNames(i, options);
  const labels = { app: names.deployment };
  return {
    deployment: {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: names.deployment, namespace: names.namespace, labels },
      spec: {
        replicas: options.replicas ?? 1,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            containers: [{ name: 'app', image: options.image ?? 'example.com/old/app:1' }],
          },
        },
      },
    },
    cv: {
      apiVersion: 'cvm.dev/v1',
      kind: 'ContainerVersion',
      metadata: { name: names.cv, namespace: names.namespace },
      spec: {
        imageRepo: options.imageRepo ?? 'registry.invalid/fill/app',
        tag: (options.tagOf ?? ((n: number) => `t${n}`))(i),
        selector: labels,
        container: 'app',
        pollIntervalSeconds: options.pollIntervalSeconds ?? 300,
      },
    },
  };
}

/** A small HTTP/1.1 JSON client with kept-alive connections (lighter than fetch per request). */
export class FillClient {
  private readonly agent: Agent;
  private readonly base: URL;

  constructor(url: string, maxSockets = 32) {
    this.base = new URL(url);
    this.agent = new Agent({ keepAlive: true, maxSockets });
  }

  /** Sends `body` as JSON; resolves with the status and the parsed answer. */
  send(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = request(
        {
          agent: this.agent,
          host: this.base.hostname,
          port: this.base.port,
          method,
          path,
          headers: {
            authorization: `Bearer ${EMULATOR_TOKEN}`,
            accept: 'application/json',
            ...(payload !== undefined
              ? {
                  'content-type': 'application/json',
                  'content-length': Buffer.byteLength(payload),
                }
              : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = text;
            try {
              parsed = text === '' ? undefined : JSON.parse(text);
            } catch {
              // not JSON: keep the text
            }
            resolve({ status: res.statusCode ?? 0, body: parsed });
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** POSTs `object` to `path`; throws unless 201 (or 409 AlreadyExists when `exists` is true). */
  async create(path: string, object: unknown, exists = false): Promise<void> {
    const r = await this.send('POST', path, object);
    if (r.status === 201 || (exists && r.status === 409)) return;
    throw new Error(`POST ${path}: ${r.status} ${JSON.stringify(r.body)}`);
  }

  close(): void {
    this.agent.destroy();
  }
}

/**
 * Applies infra/kubernetes/crd.yaml (the ContainerVersion CRD) unless the emulator already serves
 * ContainerVersions, and waits until it does.
 */
export async function ensureCrd(target: FillTarget): Promise<void> {
  const client = new FillClient(target.url, 2);
  try {
    if ((await client.send('GET', `${CV_PATH}/containerversions?limit=1`)).status === 200) return;
    const crd = parse(readFileSync(CRD_PATH, 'utf8')) as KubeObject;
    await client.create('/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd, true);
    for (let attempt = 0; attempt < 100; attempt += 1) {
      if ((await client.send('GET', `${CV_PATH}/containerversions?limit=1`)).status === 200) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('the ContainerVersion CRD was applied but is not served');
  } finally {
    client.close();
  }
}

/**
 * Creates `cvs` ContainerVersions, each with the Deployment it selects, and their namespaces
 * (applying the CRD first when needed). Over HTTP, up to `concurrency` POSTs are in flight; a
 * namespace is created before the first object in it, and a CV after its Deployment.
 */
export async function fillEmulator(target: FillTarget, options: FillOptions): Promise<FillResult> {
  const began = Date.now();
  const from = options.from ?? 0;
  const to = from + options.cvs;
  const namespaces: string[] = [];
  const cvs: { namespace: string; name: string }[] = [];
  let objects = 0;
  let done = 0;
  const via = options.via ?? 'http';
  if (via === 'store') {
    const store = target.store;
    if (!store) throw new Error("fillEmulator: via 'store' needs the emulator's store");
    await ensureCrd(target);
    for (let i = from; i < to; i += 1) {
      const names = fillNames(i, options);
      if (!store.get('namespaces', undefined, names.namespace)) {
        store.create('namespaces', {
          apiVersion: 'v1',
          kind: 'Namespace',
          metadata: { name: names.namespace },
        });
        namespaces.push(names.namespace);
        objects += 1;
      }
      const { deployment, cv } = fillObjects(i, options);
      store.create('deployments.apps', deployment);
      store.create(CV_RESOURCE, cv);
      objects += 2;
      cvs.push({ namespace: names.namespace, name: names.cv });
      options.onProgress?.((done += 1));
    }
    return { objects, namespaces, cvs, ms: Date.now() - began };
  }
  await ensureCrd(target);
  const concurrency = options.concurrency ?? 24;
  const client = new FillClient(target.url, concurrency);
  // One promise per namespace, so objects of a shared namespace wait for its creation only.
  const namespaceReady = new Map<string, Promise<void>>();
  const ensureNamespace = (namespace: string): Promise<void> => {
    let ready = namespaceReady.get(namespace);
    if (!ready) {
      ready = client
        .send('POST', '/api/v1/namespaces', {
          apiVersion: 'v1',
          kind: 'Namespace',
          metadata: { name: namespace },
        })
        .then((r) => {
          if (r.status === 201) {
            namespaces.push(namespace);
            objects += 1;
          } else if (r.status !== 409) {
            throw new Error(`POST namespace ${namespace}: ${r.status} ${JSON.stringify(r.body)}`);
          }
        });
      namespaceReady.set(namespace, ready);
    }
    return ready;
  };
  let next = from;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < to; i = next++) {
      const names = fillNames(i, options);
      const { deployment, cv } = fillObjects(i, options);
      await ensureNamespace(names.namespace);
      await client.create(`/apis/apps/v1/namespaces/${names.namespace}/deployments`, deployment);
      await client.create(`${CV_PATH}/namespaces/${names.namespace}/containerversions`, cv);
      objects += 2;
      cvs[i - from] = { namespace: names.namespace, name: names.cv };
      options.onProgress?.((done += 1));
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  } finally {
    client.close();
  }
  return { objects, namespaces, cvs, ms: Date.now() - began };
}
