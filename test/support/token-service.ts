import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importPKCS8, SignJWT } from 'jose';

export interface TokenRequest {
  scopes: string[];
  user: string | undefined;
}

/**
 * A Distribution token service (the `auth: token` realm) on 127.0.0.1 and a free port: checks
 * Basic credentials of one user, grants that user what it asks for (`repository:<name>:<actions>`)
 * and anonymous callers nothing, in ES256 JWTs whose `x5c` is a self-signed certificate
 * (written by openssl) that the registry trusts as its `rootcertbundle`.
 */
export class TokenService {
  readonly requests: TokenRequest[] = [];
  private constructor(
    private readonly server: Server,
    readonly rootCertBundle: string,
  ) {}

  static readonly service = 'cvm-test-registry';
  static readonly issuer = 'cvm-test-issuer';

  static async start(user: { username: string; password: string }): Promise<TokenService> {
    const dir = mkdtempSync(join(tmpdir(), 'cvm-token-'));
    const keyPath = join(dir, 'key.pem');
    const certPath = join(dir, 'cert.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        keyPath,
        '-out',
        certPath,
        '-subj',
        '/CN=cvm-test-token',
        '-days',
        '2',
      ],
      { stdio: 'ignore' },
    );
    const pkcs8 = execFileSync('openssl', [
      'pkcs8',
      '-topk8',
      '-nocrypt',
      '-in',
      keyPath,
    ]).toString();
    const key = await importPKCS8(pkcs8, 'ES256');
    const der = readFileSync(certPath, 'utf8')
      .replace(/-----(BEGIN|END) CERTIFICATE-----/g, '')
      .replace(/\s+/g, '');
    const expected = `Basic ${Buffer.from(`${user.username}:${user.password}`).toString('base64')}`;
    const server = createServer();
    const service = new TokenService(server, certPath);
    server.on('request', (req, res) => {
      void (async () => {
        const url = new URL(req.url ?? '/', 'http://x');
        const authorization = req.headers.authorization;
        if (authorization !== undefined && authorization !== expected) {
          res.writeHead(401, { 'content-type': 'application/json' });
          return res.end(JSON.stringify({ details: 'bad credentials' }));
        }
        const scopes = url.searchParams.getAll('scope');
        const granted = authorization ? user.username : undefined;
        service.requests.push({ scopes, user: granted });
        const access = granted
          ? scopes.map((scope) => {
              const [type, name, actions] = scope.split(':');
              return { type, name, actions: (actions ?? '').split(',').filter(Boolean) };
            })
          : [];
        const now = Math.floor(Date.now() / 1000);
        const token = await new SignJWT({ access })
          .setProtectedHeader({ alg: 'ES256', typ: 'JWT', x5c: [der] })
          .setIssuer(TokenService.issuer)
          .setAudience(url.searchParams.get('service') ?? TokenService.service)
          .setSubject(granted ?? '')
          .setIssuedAt(now - 5)
          .setNotBefore(now - 5)
          .setExpirationTime(now + 300)
          .setJti(`${now}-${service.requests.length}`)
          .sign(key);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ token, expires_in: 300 }));
      })();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return service;
  }

  get realm(): string {
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('not listening');
    return `http://127.0.0.1:${address.port}/token`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
