import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * A `fetch` whose HEAD requests go over kept-alive connections; every other request (and a HEAD
 * that is redirected) goes to `fallback`. Node's `fetch` (undici) closes the connection after
 * every HEAD, to survive servers that wrongly send a body with it, so each tag resolved (one HEAD
 * of a manifest) cost a TCP connection, and an error with a stack trace when it was closed. Here
 * node:http parses a HEAD answer as having no body, as RFC 9110 says, and puts the connection
 * back into a pool, one pool per scheme. What callers see is the same as with `fetch`: a
 * `Response` without a body, the signal's reason when it aborts, `TypeError('fetch failed')` with
 * the cause on a network error.
 */
export function keptAliveHead(fallback: typeof fetch): typeof fetch {
  const httpAgent = new HttpAgent({ keepAlive: true });
  const httpsAgent = new HttpsAgent({ keepAlive: true });
  return (input, init) => {
    if ((init?.method ?? 'GET').toUpperCase() !== 'HEAD' || input instanceof Request)
      return fallback(input, init);
    const url = input instanceof URL ? input : new URL(input);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return fallback(input, init);
    const signal = init?.signal ?? undefined;
    return new Promise<Response>((resolve, reject) => {
      if (signal?.aborted) return reject(abortReason(signal));
      const headers: Record<string, string> = {};
      new Headers(init?.headers).forEach((value, name) => {
        headers[name] = value;
      });
      const req =
        url.protocol === 'https:'
          ? httpsRequest(url, { method: 'HEAD', headers, agent: httpsAgent })
          : httpRequest(url, { method: 'HEAD', headers, agent: httpAgent });
      const onAbort = () => {
        req.destroy();
        if (signal) reject(abortReason(signal));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      req.on('error', (error) => {
        signal?.removeEventListener('abort', onAbort);
        reject(new TypeError('fetch failed', { cause: error }));
      });
      req.on('response', (res: IncomingMessage) => {
        signal?.removeEventListener('abort', onAbort);
        const status = res.statusCode ?? 0;
        // Answered once the answer has ended: then the connection is back in the pool, free for
        // the caller's next request.
        res.on('end', () => {
          if (REDIRECTS.has(status) && res.headers.location) {
            resolve(fallback(input, init));
            return;
          }
          resolve(
            new Response(null, {
              status,
              statusText: res.statusMessage ?? '',
              headers: responseHeaders(res),
            }),
          );
        });
        res.on('error', (error) => reject(new TypeError('fetch failed', { cause: error })));
        res.resume();
      });
      req.end();
    });
  };
}

function responseHeaders(res: IncomingMessage): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(res.headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  return headers;
}

/** What `fetch` rejects with when its signal aborts: the signal's reason (a `TimeoutError` for `AbortSignal.timeout`). */
const abortReason = (signal: AbortSignal): Error =>
  signal.reason instanceof Error ? signal.reason : new DOMException('aborted', 'AbortError');
