import { rssMb } from './process-stats.js';

const MESSAGES = [{ role: 'user', content: 'Hi' }];

/**
 * RSS (MB) of a gateway one second after its first calls: one chat call and one stream, each read to its end.
 * The idle reading after start does not include what the first call loads — undici's llhttp parser (WebAssembly,
 * compiled at the first connection), the call path's code — so both are reported (ADR 0080).
 */
export async function rssAfterFirstCalls(url: string, pid: number): Promise<number> {
  for (const stream of [false, true]) {
    const what = stream ? 'stream' : 'chat call';
    let status: number;
    let text: string;
    try {
      // Bounded like every other step of the bench: a gateway that hangs fails the run, it does not stall it.
      const response = await fetch(`${url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4o-mini', stream, messages: MESSAGES }),
        signal: AbortSignal.timeout(30_000),
      });
      status = response.status;
      text = await response.text();
    } catch (error) {
      throw new Error(`bench: the first ${what} failed: ${String(error)}`);
    }
    // A whole answer: a stream ended by [DONE], a chat answer with its choices (not one cut short).
    const whole = stream ? text.includes('data: [DONE]') : text.includes('"choices"');
    if (status !== 200 || !whole) throw new Error(`bench: the first ${what} got ${status}: ${text.slice(0, 200)}`);
  }
  await new Promise((r) => setTimeout(r, 1_000));
  return rssMb(pid).rssMb;
}
