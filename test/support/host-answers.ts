import type { IncomingMessage } from 'node:http';

/** An answer body of one piece, as an engine hands it to a host. */
export async function* onePiece(text: string): AsyncGenerator<Uint8Array> {
  yield Buffer.from(text);
}

/** All of an answer's body, as text. */
export async function bodyText(response: IncomingMessage): Promise<string> {
  let body = '';
  for await (const chunk of response) body += String(chunk);
  return body;
}
