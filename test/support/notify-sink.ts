import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request a sink received, with how it was answered. */
export interface SinkRequest {
  headers: IncomingMessage['headers'];
  raw: string;
  body: any;
  /** 200, 500, …; `hung` when the sink never answered. */
  answer: number | 'hung';
  at: number;
}

/**
 * A local HTTP server standing in for Slack, Teams or a generic webhook receiver, on 127.0.0.1
 * and a free port. It answers 200, or 500 for the next `failNext` requests, or never while
 * `hang` is set (the request stays open until `hang` is cleared or the server stops).
 */
export async function startNotifySink() {
  const requests: SinkRequest[] = [];
  const hung: ServerResponse[] = [];
  const state = { failNext: 0, hang: false, status: 200, headers: {} as Record<string, string> };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      try {
        body = JSON.parse(raw);
      } catch {
        body = undefined;
      }
      const record: SinkRequest = { headers: req.headers, raw, body, answer: 200, at: Date.now() };
      requests.push(record);
      if (state.hang) {
        record.answer = 'hung';
        hung.push(res);
        return;
      }
      const status = state.failNext > 0 ? 500 : state.status;
      if (state.failNext > 0) state.failNext -= 1;
      record.answer = status;
      res
        .writeHead(status, { 'content-type': 'text/plain', ...state.headers })
        .end(status === 200 ? 'ok' : 'no');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    requests,
    state,
    /** Requests answered 200. */
    delivered: () => requests.filter((r) => r.answer === 200),
    /** Stops hanging: requests from now on are answered (the hung ones are dropped). */
    release(): void {
      state.hang = false;
      for (const res of hung.splice(0)) res.destroy();
    },
    async stop(): Promise<void> {
      for (const res of hung.splice(0)) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export type NotifySink = Awaited<ReturnType<typeof startNotifySink>>;
