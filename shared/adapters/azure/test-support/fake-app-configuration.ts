import { createHmac, createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';

/** A key-value as App Configuration stores it. */
export interface FakeKeyValue {
  key: string;
  label: string | null;
  value: string;
  contentType?: string;
}

/**
 * A loopback fake of the App Configuration data-plane REST API, as much as the gateway uses:
 * `GET /kv?key={filter}&label={filter}` (a trailing `*` in the key filter matches a prefix; label `\0`
 * or none means "no label") and `GET /kv/{key}?label=…` (404 when absent), with ETags that change on
 * every write. It checks the HMAC-SHA256 signature of every request against the connection string's
 * secret (as the service does) and answers 401 when it is wrong.
 */
export class FakeAppConfiguration {
  readonly requests: string[] = [];
  private readonly items = new Map<string, FakeKeyValue & { etag: string }>();
  private server: Server | undefined;
  private version = 0;
  readonly id = 'fake-id';
  readonly secret = Buffer.from('fake app configuration secret').toString('base64');

  /** Starts on 127.0.0.1, port 0; answers the connection string the SDK needs. */
  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      this.requests.push(`${req.method} ${url.pathname}`);
      if (!this.verify(req.method ?? 'GET', req.url ?? '/', req.headers)) {
        res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'invalid signature' }));
        return;
      }
      const labelParam = url.searchParams.get('label');
      const label = labelParam === null || labelParam === '\0' ? null : labelParam;
      if (url.pathname === '/kv') {
        const keyFilter = url.searchParams.get('key') ?? '*';
        const matches = [...this.items.values()].filter(
          (kv) =>
            kv.label === label &&
            (keyFilter.endsWith('*') ? kv.key.startsWith(keyFilter.slice(0, -1)) : kv.key === keyFilter),
        );
        res.writeHead(200, { 'content-type': 'application/vnd.microsoft.appconfig.kvset+json; charset=utf-8' });
        res.end(JSON.stringify({ items: matches.map(wire) }));
        return;
      }
      if (url.pathname.startsWith('/kv/')) {
        const kv = this.items.get(id(decodeURIComponent(url.pathname.slice(4)), label));
        if (kv === undefined) {
          res
            .writeHead(404, { 'content-type': 'application/problem+json' })
            .end(JSON.stringify({ type: 'https://azconfig.io/errors/key-not-found', title: 'Not found', status: 404 }));
          return;
        }
        res.writeHead(200, {
          'content-type': 'application/vnd.microsoft.appconfig.kv+json; charset=utf-8',
          etag: `"${kv.etag}"`,
        });
        res.end(JSON.stringify(wire(kv)));
        return;
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    return `Endpoint=http://127.0.0.1:${port};Id=${this.id};Secret=${this.secret}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  set(kv: FakeKeyValue): void {
    this.items.set(id(kv.key, kv.label), { ...kv, etag: `etag-${++this.version}` });
  }

  delete(key: string, label: string | null): void {
    this.items.delete(id(key, label));
  }

  private verify(
    method: string,
    pathAndQuery: string,
    headers: Record<string, string | string[] | undefined>,
  ): boolean {
    const auth = String(headers.authorization ?? '');
    const match = /^HMAC-SHA256 Credential=([^&]+)&SignedHeaders=([^&]+)&Signature=(.+)$/.exec(auth);
    if (match === null || match[1] !== this.id || match[2] !== 'x-ms-date;host;x-ms-content-sha256') return false;
    const contentHash = createHash('sha256').update('').digest('base64');
    if (headers['x-ms-content-sha256'] !== contentHash) return false;
    const toSign = `${method}\n${pathAndQuery}\n${String(headers['x-ms-date'])};${String(headers.host)};${contentHash}`;
    return createHmac('sha256', Buffer.from(this.secret, 'base64')).update(toSign).digest('base64') === match[3];
  }
}

function id(key: string, label: string | null): string {
  return `${key}\n${label ?? ''}`;
}

function wire(kv: FakeKeyValue & { etag: string }): Record<string, unknown> {
  return {
    key: kv.key,
    label: kv.label,
    value: kv.value,
    content_type: kv.contentType ?? null,
    etag: kv.etag,
    last_modified: new Date(0).toISOString(),
    locked: false,
    tags: {},
  };
}
