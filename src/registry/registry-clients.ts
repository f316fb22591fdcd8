import { ECR_HOST } from './ecr-host.js';
import { EcrRegistryClient, type EcrRegistryClientOptions } from './ecr-registry-client.js';
import { OciRegistryClient, type OciRegistryClientOptions } from './oci-registry-client.js';
import { RegistryError, type RegistryClient, type TagWriter } from './registry-client.js';

export interface RegistryClientsOptions {
  /** Options of the client for every non-ECR registry (credentials, insecure hosts, timeouts, metrics). */
  oci?: OciRegistryClientOptions;
  /** Options of the ECR client (endpoint, AWS credentials; default: the SDK's default chain). */
  ecr?: EcrRegistryClientOptions;
  /** Overrides the one for each kind, e.g. fakes in unit tests. */
  clients?: { oci?: RegistryClient; ecr?: RegistryClient };
}

/**
 * The table of registry clients: ECR hosts (`<account>.dkr.ecr.<region>.amazonaws.com[.cn]`) get
 * the ECR client, every other host the OCI Distribution client. One instance of each, so token
 * caches are shared by every caller.
 */
export class RegistryClients {
  readonly #entries: { matches: (host: string) => boolean; client: RegistryClient }[];
  readonly #ecr: EcrRegistryClient | undefined;

  constructor(options: RegistryClientsOptions = {}) {
    this.#ecr = options.clients?.ecr ? undefined : new EcrRegistryClient(options.ecr);
    const ecr = options.clients?.ecr ?? this.#ecr;
    const oci = options.clients?.oci ?? new OciRegistryClient(options.oci);
    this.#entries = [
      { matches: (host) => ECR_HOST.test(host.toLowerCase()), client: ecr ?? oci },
      { matches: () => true, client: oci },
    ];
  }

  /** The client for a registry host as written in image refs. */
  for(registryHost: string): RegistryClient {
    const entry = this.#entries.find((e) => e.matches(registryHost));
    // The last entry matches every host.
    return (entry ?? this.#entries[this.#entries.length - 1])!.client;
  }

  /**
   * The tag writer for a registry host (the same client as {@link for}, so it shares its
   * credentials and tokens). @throws RegistryError when an override cannot write tags.
   */
  tagWriterFor(registryHost: string): TagWriter {
    const client = this.for(registryHost);
    if (!isTagWriter(client))
      throw new RegistryError(`the registry client for ${registryHost} cannot move tags`, false);
    return client;
  }

  /** Releases the ECR clients' sockets. Idempotent. */
  stop(): void {
    this.#ecr?.stop();
  }
}

const isTagWriter = (client: RegistryClient): client is RegistryClient & TagWriter =>
  typeof (client as Partial<TagWriter>).moveTag === 'function';
