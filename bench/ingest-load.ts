// The ingest benchmarks' load generator, run as its own process (pinned to a core of its own by
// the caller): autocannon sends signed webhooks, each a distinct event, and the result is printed
// as one JSON line on stdout. Usage: node --import tsx bench/ingest-load.ts '<LoadSpec as JSON>'.
import { createHmac, randomUUID } from 'node:crypto';
import autocannon from 'autocannon';

/** What to send, and for how long. */
export interface LoadSpec {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  /**
   * `generic`: `POST /webhooks/generic`, HMAC-signed; `dockerhub`: `POST /webhooks/dockerhub/<token>`;
   * `echo`: the generic request, to a server that only echoes it.
   */
  route: 'generic' | 'dockerhub';
  /** The HMAC secret (generic) or the path token (Docker Hub). */
  secret: string;
  connections: number;
  /** Seconds to send for; ignored with `amount`. */
  durationSeconds: number;
  /** Send exactly this many requests instead of for a duration. */
  amount?: number;
}

/** What one load run measured. */
export interface LoadResult {
  requests: number;
  /** Requests per second over the run. */
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** Count of each response status (`"202": 1234`). */
  statuses: Record<string, number>;
  errors: number;
  timeouts: number;
}

/** The request of the `n`th event of this process: a tag (and digest) no other request has. */
function requestFor(spec: LoadSpec, run: string, n: number): { path: string; body: string } {
  const tag = `b${run}-${n}`;
  if (spec.route === 'dockerhub') {
    return {
      path: `/webhooks/dockerhub/${spec.secret}`,
      body: JSON.stringify({
        callback_url: 'https://registry.hub.docker.com/u/team/api/hook/1/',
        push_data: { pusher: 'ci', pushed_at: 1_767_000_000 + n, tag },
        repository: { repo_name: 'team/api', namespace: 'team', name: 'api', status: 'Active' },
      }),
    };
  }
  const digest = `sha256:${n.toString(16).padStart(64, '0')}`;
  return {
    path: '/webhooks/generic',
    body: JSON.stringify({ image: `bench.example.com/team/api:${tag}`, digest, id: `ci-${tag}` }),
  };
}

/** Sends the load of `spec` and resolves with what autocannon measured. */
export async function sendLoad(spec: LoadSpec): Promise<LoadResult> {
  const run = randomUUID().slice(0, 8);
  let n = 0;
  const result = await autocannon({
    url: spec.origin,
    connections: spec.connections,
    ...(spec.amount !== undefined ? { amount: spec.amount } : { duration: spec.durationSeconds }),
    timeout: 10,
    requests: [
      {
        method: 'POST',
        setupRequest: (request) => {
          const { path, body } = requestFor(spec, run, n++);
          const signature = createHmac('sha256', spec.secret).update(body).digest('hex');
          return {
            ...request,
            method: 'POST',
            path,
            body,
            headers: {
              'content-type': 'application/json',
              ...(spec.route === 'generic' ? { 'x-cvm-signature-256': `sha256=${signature}` } : {}),
            },
          };
        },
      },
    ],
  });
  const statuses: Record<string, number> = {};
  for (const [status, { count }] of Object.entries(
    result.statusCodeStats as Record<string, { count: number }>,
  ))
    statuses[status] = count;
  return {
    requests: result.requests.total,
    rps: result.requests.total / (result.duration || spec.durationSeconds),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    statuses,
    errors: result.errors,
    timeouts: result.timeouts,
  };
}

if (process.argv[2]) {
  const spec = JSON.parse(process.argv[2]) as LoadSpec;
  sendLoad(spec)
    .then((result) => process.stdout.write(`${JSON.stringify(result)}\n`))
    .catch((error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    });
}
