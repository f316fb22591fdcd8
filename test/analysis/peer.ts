import { once } from 'node:events';
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Peer {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  stop(): Promise<void>;
}

/**
 * An HTTP server on 127.0.0.1 and a free port that answers with `handler`: a stand-in for what
 * sits in front of Prometheus (a proxy that hangs, answers HTML or refuses POST).
 */
export async function startPeer(handler: RequestListener): Promise<Peer> {
  const server = createServer(handler);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async stop() {
      server.closeAllConnections();
      if (server.listening) await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A peer that accepts every request and never answers. */
export function startHangingPeer(): Promise<Peer> {
  return startPeer(() => {
    // never answers
  });
}
