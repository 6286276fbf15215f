import { rssMb } from './process-stats.js';

const MESSAGES = [{ role: 'user', content: 'Hi' }];

/**
 * RSS (MB) of a gateway one second after its first calls: one chat call and one stream, each read to its end.
 * The idle reading after start does not include what the first call loads — undici's llhttp parser (WebAssembly,
 * compiled at the first connection), the call path's code — so both are reported (ADR 0079).
 */
export async function rssAfterFirstCalls(url: string, pid: number): Promise<number> {
  for (const stream of [false, true]) {
    const response = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', stream, messages: MESSAGES }),
    });
    await response.arrayBuffer();
    if (!response.ok) throw new Error(`bench: the first ${stream ? 'stream' : 'chat call'} got ${response.status}`);
  }
  await new Promise((r) => setTimeout(r, 1_000));
  return rssMb(pid).rssMb;
}
