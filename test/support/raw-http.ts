import { connect } from 'node:net';

/** What a server wrote back on one raw connection. */
export interface RawAnswer {
  /** The status of the first response, or undefined when the server closed without one. */
  readonly status: number | undefined;
  /** Lower-cased header names → values of the first response. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly text: string;
}

/** Options of {@link rawHttp}. */
export interface RawHttpOptions {
  /**
   * End the sending side after the bytes (default false). node:http then answers what it has and closes,
   * but treats a call still in progress as abandoned by its caller.
   */
  readonly halfClose?: boolean;
  /** Give up (destroy the socket) after this long; default 5 000 ms. */
  readonly timeoutMs?: number;
}

/**
 * Sends bytes exactly as given on a fresh loopback connection and resolves with the first response, as
 * soon as it is complete (by content-length or the last chunk), or with whatever arrived when the server
 * closed or `timeoutMs` passed.
 */
export function rawHttp(port: number, bytes: string | Buffer, options: RawHttpOptions = {}): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () =>
      options.halfClose === true ? socket.end(bytes) : socket.write(bytes),
    );
    const chunks: Buffer[] = [];
    const done = (): void => {
      socket.destroy();
      resolve(parseAnswer(Buffer.concat(chunks).toString('latin1')));
    };
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      if (complete(parseAnswer(Buffer.concat(chunks).toString('latin1')))) done();
    });
    socket.on('error', () => undefined);
    socket.on('close', done);
    socket.setTimeout(options.timeoutMs ?? 5_000, done);
  });
}

function complete(answer: RawAnswer): boolean {
  if (answer.status === undefined || !answer.text.includes('\r\n\r\n')) return false;
  const length = answer.headers['content-length'];
  if (length !== undefined) return Buffer.byteLength(answer.body, 'latin1') >= Number(length);
  if (answer.headers['transfer-encoding'] === 'chunked') return answer.body.endsWith('0\r\n\r\n');
  return false;
}

/**
 * Splits the first final HTTP/1.x response of `text` into status, headers and body. Interim 1xx responses
 * (`100 Continue` before the answer) are skipped: they are not the server's answer to the request.
 */
export function parseAnswer(text: string): RawAnswer {
  const interim = /^HTTP\/1\.[01] 1\d\d[^\r]*\r\n(?:[^\r]+\r\n)*\r\n/.exec(text);
  if (interim !== null && interim[0].length < text.length) return parseAnswer(text.slice(interim[0].length));
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(text);
  const end = text.indexOf('\r\n\r\n');
  const headers: Record<string, string> = {};
  for (const line of text
    .slice(0, end < 0 ? undefined : end)
    .split('\r\n')
    .slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return {
    status: match === null ? undefined : Number(match[1]),
    headers,
    body: end < 0 ? '' : text.slice(end + 4),
    text,
  };
}
