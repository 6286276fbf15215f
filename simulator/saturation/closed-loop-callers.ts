import { KEYS } from './saturation-gateway.js';

/** One call's outcome as its caller saw it. */
export interface CallOutcome {
  readonly gateway: string;
  readonly level: number;
  /** HTTP status, or 0 when the connection failed (the gateway died). */
  readonly status: number;
  /** The gateway's own figure (`Server-Timing: queue;dur=…`), ms; undefined without an answer. */
  readonly queueMs: number | undefined;
  readonly startedAtMs: number;
  readonly endedAtMs: number;
  readonly error?: string;
}

/** A group of callers, each sending its next call as soon as the last one ended. */
export interface CallerGroup {
  readonly gateway: string;
  readonly level: number;
  readonly outcomes: readonly CallOutcome[];
  /** Calls started (answered or not). */
  sent(): number;
  /** Stops sending and resolves once every caller's call in flight has ended. */
  stop(): Promise<void>;
}

const CHAT = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hello there' }] });

/** `queue;dur=12.5` of a `Server-Timing` header. */
export function queueMsOf(serverTiming: string | null): number | undefined {
  const match = /(?:^|,)\s*queue;dur=([\d.]+)/.exec(serverTiming ?? '');
  return match === null ? undefined : Number(match[1]);
}

/**
 * Starts `callers` closed-loop callers against `url` with the API key of `level` (1: `search`, 3: `etl`).
 * Each call is bounded (`timeoutMs`), so a dead gateway ends its callers' calls with an error instead of
 * leaving them hanging. Callers stop at their first connection failure (nobody to call any more).
 *
 * @example
 * const flood = startCallers({ gateway: 'g1', url: g1.url, level: 3, callers: 16 });
 * await flood.stop();
 */
export function startCallers(options: {
  readonly gateway: string;
  readonly url: string;
  readonly level: 1 | 3;
  readonly callers: number;
  readonly timeoutMs?: number;
}): CallerGroup {
  const outcomes: CallOutcome[] = [];
  const key = options.level === 1 ? KEYS.search : KEYS.etl;
  let stopped = false;
  let sent = 0;
  const one = async (): Promise<boolean> => {
    sent += 1;
    const startedAtMs = performance.now();
    try {
      const response = await fetch(`${options.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'api-key': key },
        body: CHAT,
        signal: AbortSignal.timeout(options.timeoutMs ?? 60_000),
      });
      await response.arrayBuffer();
      outcomes.push({
        gateway: options.gateway,
        level: options.level,
        status: response.status,
        queueMs: queueMsOf(response.headers.get('server-timing')),
        startedAtMs,
        endedAtMs: performance.now(),
      });
      return true;
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      outcomes.push({
        gateway: options.gateway,
        level: options.level,
        status: 0,
        queueMs: undefined,
        startedAtMs,
        endedAtMs: performance.now(),
        error: cause ?? (error instanceof Error ? error.message : String(error)),
      });
      return false;
    }
  };
  const loops = Array.from({ length: options.callers }, async () => {
    while (!stopped && (await one()));
  });
  return {
    gateway: options.gateway,
    level: options.level,
    outcomes,
    sent: () => sent,
    stop: async () => {
      stopped = true;
      await Promise.all(loops);
    },
  };
}
