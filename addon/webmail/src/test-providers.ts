/**
 * Test support: a local server answering the documented endpoints the extension uses, since
 * neither Google nor Microsoft can be reached here:
 * - Google OAuth 2.0 authorization, implicit grant (`response_type=token`): redirects to the
 *   extension's redirect URI with `#access_token=…&state=…`;
 * - Microsoft identity platform authorization code + PKCE: `/ms/authorize` then `POST /ms/token`,
 *   which checks `code_verifier` against the S256 `code_challenge` (RFC 7636 §4.6);
 * - Gmail `GET /gmail/v1/users/me/messages/{id}?format=raw` → `{id, raw: base64url}`;
 * - Graph `GET /graph/v1.0/me/messages/{id}/$value` → the MIME bytes.
 * Every request is recorded so a test can check what the extension asked.
 */
import http from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';

export interface FakeProviders {
  url: string;
  gmail: Map<string, Buffer>;
  graph: Map<string, Buffer>;
  requests: { method: string; path: string; authorization?: string }[];
  /** Client ids seen at the authorization endpoints. */
  clients: string[];
  close(): Promise<void>;
}

const GMAIL_TOKEN = `ya29.${randomBytes(12).toString('hex')}`;
const GRAPH_TOKEN = `EwB${randomBytes(12).toString('hex')}`;

export async function startFakeProviders(): Promise<FakeProviders> {
  const gmail = new Map<string, Buffer>();
  const graph = new Map<string, Buffer>();
  const requests: FakeProviders['requests'] = [];
  const clients: string[] = [];
  const codes = new Map<string, { challenge: string; clientId: string; redirectUri: string }>();

  const server = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://127.0.0.1');
    requests.push({ method: req.method ?? '', path: u.pathname + u.search, authorization: req.headers.authorization });
    const json = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (u.pathname === '/o/oauth2/v2/auth') {
      const q = u.searchParams;
      clients.push(q.get('client_id') ?? '');
      if (q.get('response_type') !== 'token' || !q.get('client_id')) return json(400, { error: 'invalid_request' });
      const back = new URL(q.get('redirect_uri') ?? '');
      back.hash = new URLSearchParams({
        access_token: GMAIL_TOKEN,
        token_type: 'Bearer',
        expires_in: '3599',
        state: q.get('state') ?? '',
        scope: q.get('scope') ?? '',
      }).toString();
      res.writeHead(302, { location: back.toString() });
      return res.end();
    }
    if (u.pathname === '/ms/authorize') {
      const q = u.searchParams;
      clients.push(q.get('client_id') ?? '');
      if (q.get('response_type') !== 'code' || q.get('code_challenge_method') !== 'S256')
        return json(400, { error: 'invalid_request' });
      const code = randomBytes(16).toString('hex');
      codes.set(code, {
        challenge: q.get('code_challenge') ?? '',
        clientId: q.get('client_id') ?? '',
        redirectUri: q.get('redirect_uri') ?? '',
      });
      const back = new URL(q.get('redirect_uri') ?? '');
      back.searchParams.set('code', code);
      back.searchParams.set('state', q.get('state') ?? '');
      res.writeHead(302, { location: back.toString() });
      return res.end();
    }
    if (u.pathname === '/ms/token' && req.method === 'POST') {
      let body = '';
      req.on('data', (c: Buffer) => {
        body += c.toString();
      });
      req.on('end', () => {
        const f = new URLSearchParams(body);
        const grant = codes.get(f.get('code') ?? '');
        const verifier = f.get('code_verifier') ?? '';
        const s256 = createHash('sha256').update(verifier).digest('base64url');
        if (!grant || grant.challenge !== s256 || grant.clientId !== f.get('client_id'))
          return json(400, { error: 'invalid_grant' });
        if (grant.redirectUri !== f.get('redirect_uri')) return json(400, { error: 'invalid_grant' });
        codes.delete(f.get('code') ?? '');
        json(200, { token_type: 'Bearer', access_token: GRAPH_TOKEN, expires_in: 3600 });
      });
      return;
    }
    const gm = /^\/gmail\/v1\/users\/me\/messages\/([^/]+)$/.exec(u.pathname);
    if (gm) {
      if (req.headers.authorization !== `Bearer ${GMAIL_TOKEN}`) return json(401, { error: { message: 'bad token' } });
      if (u.searchParams.get('format') !== 'raw') return json(400, { error: { message: 'format=raw expected' } });
      const id = decodeURIComponent(gm[1]);
      const bytes = gmail.get(id);
      if (!bytes) return json(404, { error: { code: 404, message: 'Requested entity was not found.' } });
      return json(200, { id, threadId: id, raw: bytes.toString('base64url'), sizeEstimate: bytes.length });
    }
    const gr = /^\/graph\/v1\.0\/me\/messages\/([^/]+)\/\$value$/.exec(u.pathname);
    if (gr) {
      if (req.headers.authorization !== `Bearer ${GRAPH_TOKEN}`)
        return json(401, { error: { code: 'InvalidAuthenticationToken', message: 'bad token' } });
      const bytes = graph.get(decodeURIComponent(gr[1]));
      if (!bytes)
        return json(404, { error: { code: 'ErrorItemNotFound', message: 'The specified object was not found.' } });
      res.writeHead(200, { 'content-type': 'text/plain' });
      return res.end(bytes);
    }
    json(404, { error: { message: `no route ${u.pathname}` } });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    gmail,
    graph,
    requests,
    clients,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/**
 * A switchable door in front of the Spamdesk server: while `down`, nothing listens on its port
 * (connection refused: a network error); while `maintenance`, it answers 503 with Retry-After as
 * a reverse proxy does when the instance behind it is down; `up` passes requests through untouched.
 */
export async function startSwitchableProxy(target: string): Promise<{
  url: string;
  down(): Promise<void>;
  up(): Promise<void>;
  maintenance(retryAfterSeconds: number): Promise<void>;
  close(): Promise<void>;
}> {
  const t = new URL(target);
  let retryAfter: number | null = null;
  const make = (): http.Server =>
    http.createServer((req, res) => {
      if (retryAfter !== null) {
        req.resume();
        res.writeHead(503, { 'content-type': 'text/html', 'retry-after': String(retryAfter) });
        res.end('<html><body>503 Service Temporarily Unavailable</body></html>');
        return;
      }
      const out = http.request(
        { host: t.hostname, port: t.port, method: req.method, path: req.url, headers: req.headers },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      out.on('error', () => {
        res.writeHead(502);
        res.end();
      });
      req.pipe(out);
    });
  let server = make();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      if (!server.listening) return resolve();
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return {
    url: `http://127.0.0.1:${port}`,
    down: stop,
    async maintenance(seconds) {
      retryAfter = seconds;
      if (!server.listening) {
        server = make();
        await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
      }
    },
    async up() {
      retryAfter = null;
      if (server.listening) return;
      server = make();
      await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    },
    close: stop,
  };
}
