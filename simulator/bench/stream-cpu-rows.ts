import { createMemoryUsageLedger } from '../../shared/adapters/memory/memory-usage-ledger.js';
import { createRuntime } from '../../shared/composition/create-runtime.js';
import { validateConfig } from '../../shared/config/load-config.js';
import type { BackendResponse, BackendTransport } from '../../shared/ports/backend-transport.js';

/** One stream row measured in process: the gateway's CPU per streamed call with a feature on and off. */
export interface StreamCpuRow {
  readonly scenario: string;
  readonly feature: 'stream recovery' | 'metering';
  /** CPU µs per call with the feature on (two rounds: before and after the off round). */
  readonly onUs: readonly number[];
  readonly offUs: number;
}

const CALLS = 400;
const encoder = new TextEncoder();

/** An OpenAI chat stream as its backend writes it: role, `tokens` content chunks, finish, usage, [DONE]. */
function streamEvents(tokens: number): Uint8Array[] {
  const chunk = (delta: object, finish: string | null): string =>
    `data: ${JSON.stringify({
      id: 'chatcmpl-bench',
      object: 'chat.completion.chunk',
      created: 1_765_000_000,
      model: 'gpt-4o-mini',
      system_fingerprint: 'fp_bench',
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    })}\n\n`;
  const usage = { prompt_tokens: 12, completion_tokens: tokens, total_tokens: 12 + tokens };
  const events = [chunk({ role: 'assistant', content: '' }, null)];
  for (let i = 0; i < tokens; i++) events.push(chunk({ content: ` word${i}` }, null));
  events.push(chunk({}, 'stop'));
  events.push(
    `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', choices: [], usage })}\n\n`,
  );
  events.push('data: [DONE]\n\n');
  return events.map((e) => encoder.encode(e));
}

/** A transport that answers every call with the same stream, in one read or one read per event. */
function cannedTransport(events: readonly Uint8Array[], oneRead: boolean): BackendTransport {
  const whole = oneRead ? Buffer.concat(events) : undefined;
  return {
    send: async (): Promise<BackendResponse> => ({
      status: 200,
      headers: { 'content-type': 'text/event-stream' },
      body: (async function* () {
        if (whole !== undefined) yield whole;
        else yield* events;
      })(),
      errorKind: () => 'other',
      dump: async () => undefined,
    }),
    close: async () => undefined,
  };
}

/** The bench's gateway config (one backend, anonymous callers), with metering and stream recovery as asked. */
function runtimeWith(transport: BackendTransport, metering: boolean, streamRecovery: 'auto' | 'off') {
  const result = validateConfig({
    backends: [{ id: 'sim', url: 'http://127.0.0.1:9', kind: 'openai', maxConcurrency: 10_000 }],
    pools: [{ id: 'main', backends: ['sim'] }],
    routes: [{ id: 'all', match: { models: ['*'] }, pool: 'main', streamRecovery }],
    governance: { identity: { anonymous: { allowed: true } } },
    usage: { enabled: metering },
  });
  if (!result.ok) throw new Error(result.issues.join('\n'));
  return createRuntime({ config: result.config, transport, ledger: createMemoryUsageLedger() });
}

const body = encoder.encode(
  JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'Hi' }] }),
);

/** CPU µs per call (process.cpuUsage) over `CALLS` sequential streamed calls, each body read to its end. */
async function cpuPerCall(runtime: ReturnType<typeof runtimeWith>): Promise<number> {
  const call = async (): Promise<void> => {
    const response = await runtime.gateway.handle({
      method: 'POST',
      url: 'http://gateway.bench/v1/chat/completions',
      headers: new Headers({ 'content-type': 'application/json' }),
      body: (async function* () {
        yield body;
      })(),
      signal: new AbortController().signal,
    });
    if (response.status !== 200) throw new Error(`bench stream answered ${response.status}`);
    for await (const chunk of response.body ?? []) void chunk;
  };
  for (let i = 0; i < CALLS / 4; i++) await call(); // warm-up: JIT, the first usage records
  const before = process.cpuUsage();
  for (let i = 0; i < CALLS; i++) await call();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / CALLS;
}

/**
 * The per-chunk cost of a feature on the bench's two stream kinds, in process so that nothing else is
 * measured: the same canned stream (16 tokens in one read; 300 tokens in 300 reads; 300 tokens in one read, as a
 * fast backend's backlog arrives) through two gateways that
 * differ only in the feature, on, off, on again; CPU from `process.cpuUsage`, which other processes on the
 * machine disturb less than wall-clock time. What the load rows' h2load runs cannot isolate on a shared machine.
 */
export async function streamCpuRows(): Promise<StreamCpuRow[]> {
  const rows: StreamCpuRow[] = [];
  for (const [scenario, tokens, oneRead] of [
    ['stream, 16 tokens in one read', 16, true],
    ['stream, 300 tokens in 300 reads', 300, false],
    ['stream, 300 tokens in one read', 300, true],
  ] as const) {
    const transport = cannedTransport(streamEvents(tokens), oneRead);
    for (const feature of ['stream recovery', 'metering'] as const) {
      const on = runtimeWith(transport, true, 'auto');
      const off = feature === 'metering' ? runtimeWith(transport, false, 'auto') : runtimeWith(transport, true, 'off');
      const first = await cpuPerCall(on);
      const offUs = await cpuPerCall(off);
      const second = await cpuPerCall(on);
      await Promise.all([on.close(), off.close()]);
      rows.push({ scenario, feature, onUs: [first, second], offUs });
    }
  }
  return rows;
}

/** One line per row: CPU per call on (both rounds), off, and the feature's share of the CPU with it on. */
export function streamCpuLine(row: StreamCpuRow): string {
  const on = (row.onUs[0]! + row.onUs[1]!) / 2;
  const share = (1 - row.offUs / on) * 100;
  return (
    `- ${row.feature}, ${row.scenario} (in process, ${CALLS} calls): gateway CPU per stream ` +
    `${row.onUs.map((us) => us.toFixed(0)).join(', ')} µs with it, ${row.offUs.toFixed(0)} µs without → ` +
    `${row.feature} takes ${share.toFixed(1)} % of it`
  );
}
