import type { GatewayRuntime } from '../composition/create-runtime.js';
import type { BreakerTransition } from '../core/status/breaker-watch.js';

/** Options of {@link startTerminalStatus}. */
export interface TerminalStatusOptions {
  readonly runtime: Pick<GatewayRuntime, 'status' | 'gate' | 'config'>;
  /** Writes one line (without its newline). */
  readonly write: (line: string) => void;
  /** True when stdout is a terminal: without one nothing is printed (logs stay structured). */
  readonly isTTY: boolean;
  /** Seconds between status lines (default 5; 0 = no status line, transitions still printed). */
  readonly everySeconds?: number;
  /** The wall clock for the lines' time of day (default `Date.now`). */
  readonly now?: () => number;
}

/** The default seconds between status lines. */
export const STATUS_EVERY_SECONDS = 5;

/**
 * The standalone host's terminal, when stdout is a TTY: one compact status line at most every
 * `everySeconds` (calls/s, errors, queued, breakers open, tokens/s over that window) — skipped while
 * nothing changes — and one line per breaker transition as the health ticker sees it. Configuration
 * reloads have their own line from the host configuration pipeline. Without a TTY it prints nothing: a
 * log collector gets the structured telemetry, not a ticker. Answers the function that stops it.
 *
 * @example
 * const stop = startTerminalStatus({
 *   runtime,
 *   write: (l) => process.stdout.write(l + '\n'),
 *   isTTY: process.stdout.isTTY,
 * });
 */
export function startTerminalStatus(options: TerminalStatusOptions): () => void {
  if (!options.isTTY) return () => undefined;
  const { runtime, write } = options;
  const now = options.now ?? Date.now;
  const everyMs = (options.everySeconds ?? STATUS_EVERY_SECONDS) * 1_000;
  const unsubscribe = runtime.status.breakers.onTransition((t) => write(`${clockOf(now())}  ${transitionText(t)}`));
  let last = '';
  const timer =
    everyMs > 0
      ? setInterval(() => {
          const line = statusText(runtime, everyMs);
          if (line === last) return;
          last = line;
          write(`${clockOf(now())}  ${line}`);
        }, everyMs)
      : undefined;
  timer?.unref();
  return () => {
    if (timer !== undefined) clearInterval(timer);
    unsubscribe();
  };
}

/**
 * The status line's text, without its time: `calls 12.4/s  errors 0  queued 3  breakers open 1/4  tokens 1.2k/s`.
 *
 * @example
 * statusText(runtime, 5_000);
 */
export function statusText(runtime: Pick<GatewayRuntime, 'status' | 'gate' | 'config'>, windowMs: number): string {
  const pulse = runtime.status.pulse(windowMs);
  const queued = runtime.gate.stats().pools.reduce((sum, pool) => sum + pool.waiting, 0);
  const open = runtime.status.breakers.openCount();
  const backends = runtime.config().backends.length;
  return (
    `calls ${pulse.callsPerSec}/s  errors ${pulse.errors}  queued ${queued}  ` +
    `breakers open ${open}/${backends}  tokens ${compact(pulse.tokensPerSec)}/s`
  );
}

/** `breaker a: closed → open (trial at 12:04:08)`. */
export function transitionText(t: BreakerTransition): string {
  const until = t.openUntilMs === undefined ? '' : ` (trial at ${clockOf(t.openUntilMs)})`;
  return `breaker ${t.backendId}: ${t.from} → ${t.to}${until}`;
}

function clockOf(ms: number): string {
  return new Date(ms).toTimeString().slice(0, 8);
}

function compact(n: number): string {
  if (n >= 1_000_000) return `${(n / 1_000_000).toFixed(1)}M`;
  if (n >= 1_000) return `${(n / 1_000).toFixed(1)}k`;
  return String(n);
}
