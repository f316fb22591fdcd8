import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export interface PeerRequest {
  method: string;
  path: string;
  authorization: string | undefined;
  accept: string | undefined;
}

/**
 * A node:http server on 127.0.0.1 that plays the registry (or token service) side of the
 * Distribution protocol for paths docker-registry 2.8 cannot show: bearer challenges, Link
 * pagination, 429 and 5xx. Each test gives its own handler; every request is recorded.
 */
export class ProtocolPeer {
  readonly requests: PeerRequest[] = [];
  /** TCP connections accepted so far. */
  connections = 0;
  private constructor(private readonly server: Server) {}

  static async start(
    handler: (req: IncomingMessage, res: ServerResponse, peer: ProtocolPeer) => void,
  ): Promise<ProtocolPeer> {
    const server = createServer();
    const peer = new ProtocolPeer(server);
    server.on('connection', () => {
      peer.connections += 1;
    });
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      peer.requests.push({
        method: req.method ?? '',
        path: req.url ?? '',
        authorization: req.headers.authorization,
        accept: req.headers.accept,
      });
      handler(req, res, peer);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return peer;
  }

  /** `127.0.0.1:<port>` */
  get host(): string {
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('not listening');
    return `127.0.0.1:${address.port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export const json = (
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};
