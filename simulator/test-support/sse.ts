/** One parsed SSE event. */
export interface SseEvent {
  readonly event: string | null;
  readonly data: string;
}

/** Splits an SSE body into events (LF or CRLF framing). */
export function sseEvents(text: string): SseEvent[] {
  return text
    .replace(/\r\n/g, '\n')
    .split('\n\n')
    .filter((block) => block.trim() !== '')
    .map((block) => {
      let event: string | null = null;
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('data: ')) data.push(line.slice(6));
      }
      return { event, data: data.join('\n') };
    });
}

/** The JSON payloads of the `data:` lines, `[DONE]` excluded. */
export function sseJson(text: string): Record<string, unknown>[] {
  return sseEvents(text)
    .filter((e) => e.data !== '[DONE]')
    .map((e) => JSON.parse(e.data) as Record<string, unknown>);
}

/** POSTs JSON and returns the response. */
export function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
  signal?: AbortSignal,
): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    ...(signal ? { signal } : {}),
  });
}

/** Reads a body until `done(text)` holds or the stream ends (at most `maxReads` reads). */
export async function readUntil(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  done: (text: string) => boolean,
  maxReads = 10_000,
): Promise<string> {
  const decoder = new TextDecoder();
  let text = '';
  for (let i = 0; i < maxReads && !done(text); i++) {
    const chunk = await reader.read();
    if (chunk.done) break;
    text += decoder.decode(chunk.value, { stream: true });
  }
  return text;
}

/** Reads a body to its end, returning the text so far and the error if the stream broke. */
export async function readToEnd(res: Response, maxReads = 100_000): Promise<{ text: string; error: unknown }> {
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let text = '';
  try {
    for (let i = 0; i < maxReads; i++) {
      const chunk = await reader.read();
      if (chunk.done) return { text, error: null };
      text += decoder.decode(chunk.value, { stream: true });
    }
    return { text, error: new Error('too many reads') };
  } catch (error) {
    return { text, error };
  }
}
