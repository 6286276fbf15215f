import { validateConfig } from '../../shared/config/load-config.js';
import type { GatewayConfig, GatewayConfigInput } from '../../shared/config/gateway-schema.js';
import { createRuntime, type GatewayRuntime } from '../../shared/composition/create-runtime.js';
import type { Clock } from '../../shared/core/clock.js';
import type { CallSummary } from '../../shared/core/gateway.js';
import type { UsageRecord } from '../../shared/core/usage/usage-record.js';
import { createMemoryUsageLedger } from '../../shared/adapters/memory/memory-usage-ledger.js';
import { startNodeHost, type NodeHost } from '../../shared/standalone/node-host.js';
import { startSimulator, type RunningSimulator, type SimulatorConfig } from '../simulator.js';

/**
 * Real time plus an offset that only moves forward. The gateway (breakers, cooling, TTLs) and the
 * simulators (fault windows, `retry-after` dates) share it, so a scenario can step past an open
 * interval or an outage window without sleeping; deadlines still run on real timers.
 */
export interface SkewClock extends Clock {
  /** Moves both clocks forward by `ms`. */
  advance(ms: number): void;
}

/** A {@link SkewClock} starting at real time. */
export function createSkewClock(): SkewClock {
  let offsetMs = 0;
  return {
    now: () => Date.now() + offsetMs,
    monotonicMs: () => performance.now() + offsetMs,
    advance: (ms) => {
      offsetMs += ms;
    },
  };
}

/** A gateway (runtime + Node host on port 0) in front of simulators on port 0, sharing one clock. */
export interface FaultHarness {
  readonly url: string;
  readonly sims: Readonly<Record<string, RunningSimulator>>;
  readonly runtime: GatewayRuntime;
  readonly config: GatewayConfig;
  readonly clock: SkewClock;
  /** Every call summary reported, in order of completion. */
  readonly calls: readonly CallSummary[];
  /** Resolves with the summary of the next call to end. Register before making the call. */
  nextCall(): Promise<CallSummary>;
  /** The usage record of a request id (from the `x-gateway-request-id` header). */
  usageRecord(requestId: string): Promise<UsageRecord | undefined>;
  /** Simulator `id`'s attempt count. */
  seen(id: string): number;
  close(): Promise<void>;
}

/** Options of {@link startFaultHarness}. */
export interface FaultHarnessOptions {
  /** Simulators to start, by backend id, with their runtime config (instance fault rules …). */
  readonly simulators: Readonly<Record<string, SimulatorConfig>>;
  /** Builds the gateway config from the simulators' URLs. */
  readonly config: (urls: Readonly<Record<string, string>>) => GatewayConfigInput;
}

/**
 * Starts simulators, a runtime and a Node host, all on loopback port 0. A copy of the component tests'
 * harness (`test/` is not compiled into `dist`), plus a shared skewable clock and ledger look-ups.
 *
 * @example
 * const h = await startFaultHarness({ simulators: { a: {}, b: {} }, config: (urls) => faultConfig(urls) });
 */
export async function startFaultHarness(options: FaultHarnessOptions): Promise<FaultHarness> {
  const clock = createSkewClock();
  const sims = await startSims(options.simulators, clock);
  const closeSims = (): Promise<unknown> => Promise.all(Object.values(sims).map((s) => s.close()));
  const urls = Object.fromEntries(Object.entries(sims).map(([id, s]) => [id, s.url]));
  const result = validateConfig(options.config(urls));
  if (!result.ok) {
    await closeSims();
    throw new Error(`fault harness config invalid:\n${result.issues.join('\n')}`);
  }
  const summaries = new CallSummaries();
  const runtime = createRuntime({
    ledger: createMemoryUsageLedger(),
    clock,
    config: result.config,
    onCallEnd: (summary) => summaries.add(summary),
  });
  let host: NodeHost;
  try {
    host = await startNodeHost(runtime.gateway, {
      port: 0,
      host: '127.0.0.1',
      maxHeaderBytes: result.config.limits.maxHeaderBytes,
    });
  } catch (error) {
    await runtime.close();
    await closeSims();
    throw error;
  }
  return {
    url: host.url,
    sims,
    runtime,
    config: result.config,
    clock,
    calls: summaries.calls,
    nextCall: () => summaries.next(),
    usageRecord: (requestId) => usageRecordOf(runtime, requestId),
    seen: (id) => sims[id]?.attempts().length ?? 0,
    close: async () => {
      await host.close();
      await runtime.close();
      await closeSims();
    },
  };
}

/** Starts the simulators on loopback port 0, on the harness's clock; closes those started if one fails. */
async function startSims(
  simulators: Readonly<Record<string, SimulatorConfig>>,
  clock: SkewClock,
): Promise<Record<string, RunningSimulator>> {
  const sims: Record<string, RunningSimulator> = {};
  try {
    for (const [id, spec] of Object.entries(simulators))
      sims[id] = await startSimulator({ ...spec, name: id, port: 0, host: '127.0.0.1', now: clock.now });
    return sims;
  } catch (error) {
    await Promise.all(Object.values(sims).map((s) => s.close()));
    throw error;
  }
}

/** The call summaries the runtime reports, in order of completion, and who waits for the next one. */
class CallSummaries {
  readonly calls: CallSummary[] = [];
  private readonly waiters: ((s: CallSummary) => void)[] = [];

  add(summary: CallSummary): void {
    const copy = { ...summary };
    this.calls.push(copy);
    this.waiters.shift()?.(copy);
  }

  next(): Promise<CallSummary> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}

async function usageRecordOf(runtime: GatewayRuntime, requestId: string): Promise<UsageRecord | undefined> {
  for await (const record of runtime.ledger.query({ fromMs: 0, toMs: Number.MAX_SAFE_INTEGER }))
    if (record.requestId === requestId) return record;
  return undefined;
}

/** POSTs JSON to the gateway; `timeoutMs` bounds the whole exchange up to the headers (no hang). */
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
    signal: signal ?? null,
  });
}

/** The SSE `data:` payloads of a body and how it ended: `clean` (the server ended it) or `error`. */
export interface SseRead {
  readonly events: string[];
  readonly ended: 'clean' | 'error';
}

/** Reads an SSE body to its end, clean or abnormal. */
export async function readSse(response: Response): Promise<SseRead> {
  const events: string[] = [];
  const decoder = new TextDecoder();
  let buffer = '';
  let ended: 'clean' | 'error' = 'clean';
  try {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let index;
      while ((index = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, index).replace(/\r$/, '');
        buffer = buffer.slice(index + 1);
        if (line.startsWith('data:')) events.push(line.slice(5).trim());
      }
    }
  } catch {
    ended = 'error';
  }
  return { events, ended };
}
