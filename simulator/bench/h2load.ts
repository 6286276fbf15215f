import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';

/** One h2load run's figures. */
export interface LoadResult {
  readonly rps: number;
  /** Requests answered 2xx (h2load's warm-up excluded). */
  readonly succeeded: number;
  /** Requests answered with another status, by class (`3xx`, `4xx`, `5xx`). */
  readonly non2xx: Readonly<Record<string, number>>;
  /** Requests h2load counted as failed without a status: connection errors, resets, timeouts. */
  readonly errored: number;
  /** Requests still in flight when the run's time was up (neither answered nor failed; not counted). */
  readonly unfinished: number;
  /** Latency percentiles over 2xx answers only, ms. */
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/** Options of {@link runH2load}. */
export interface LoadOptions {
  readonly url: string;
  readonly bodyFile: string;
  readonly connections: number;
  readonly durationS: number;
  readonly warmupS: number;
  readonly logFile: string;
  /** Extra request headers, `name: value`. */
  readonly headers?: readonly string[];
}

/** Requests of a run that did not end in a 2xx, whatever the reason. */
export function failures(result: LoadResult): number {
  return result.errored + Object.values(result.non2xx).reduce((sum, n) => sum + n, 0);
}

/** `2 × 5xx, 1 without a status` — what went wrong in a run, for the report. */
export function describeFailures(result: LoadResult): string {
  const parts = Object.entries(result.non2xx)
    .filter(([, n]) => n > 0)
    .map(([cls, n]) => `${n} × ${cls}`);
  if (result.errored > 0) parts.push(`${result.errored} without a status (connection error, reset or timeout)`);
  return parts.join(', ');
}

/** h2load's summary line of request counts. */
const REQUESTS_LINE =
  /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/;

/**
 * Runs h2load (HTTP/1.1, one request in flight per connection, warm-up on the same connections) and
 * reads its per-request log for latency percentiles. h2load is a C load generator that costs little
 * CPU, so it disturbs the two cores it measures on far less than a Node load generator would.
 */
export async function runH2load(options: LoadOptions): Promise<LoadResult> {
  await rm(options.logFile, { force: true });
  const output = await spawnH2load(h2loadArgs(options));
  const rps = Number(/finished in [\d.]+\w+, ([\d.]+) req\/s/.exec(output)?.[1] ?? NaN);
  const counts = REQUESTS_LINE.exec(output);
  const codes = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(output);
  if (counts === null || codes === null) throw new Error(`h2load printed no totals:\n${output}`);
  const [status2xx, status3xx, status4xx, status5xx] = codes.slice(1).map(Number) as [number, number, number, number];
  // h2load's "failed" holds 4xx/5xx answers and requests that got no complete answer ("errored",
  // "timeout"); its "succeeded" holds 3xx too. Report statuses and status-less failures apart.
  const [failed, errored, timedOut] = counts.slice(5, 8).map(Number) as [number, number, number];
  const noStatus = Math.max(failed - status4xx - status5xx, errored + timedOut);
  const durations = await successDurationsMs(options.logFile);
  const pct = (p: number): number =>
    durations[Math.min(durations.length - 1, Math.floor((p / 100) * durations.length))] ?? NaN;
  return {
    rps,
    succeeded: status2xx,
    non2xx: { '3xx': status3xx, '4xx': status4xx, '5xx': status5xx },
    errored: noStatus,
    unfinished: Math.max(0, Number(counts[2]) - Number(counts[3])),
    p50Ms: pct(50),
    p99Ms: pct(99),
  };
}

function h2loadArgs(options: LoadOptions): string[] {
  const args = ['--h1', '-c', String(options.connections), '-m', '1', '-D', String(options.durationS)];
  args.push(`--warm-up-time=${options.warmupS}`, '-d', options.bodyFile, '-H', 'content-type: application/json');
  for (const header of options.headers ?? []) args.push('-H', header);
  args.push(`--log-file=${options.logFile}`, options.url);
  return args;
}

const running = new Set<ChildProcess>();

/** Ends the h2load runs still going (the bench was interrupted). */
export function stopH2load(): void {
  for (const child of running) child.kill('SIGTERM');
}

function spawnH2load(args: string[]): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const child = spawn('h2load', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    child.on('exit', () => running.delete(child));
    let text = '';
    child.stdout.on('data', (d: Buffer) => (text += d.toString()));
    child.stderr.on('data', (d: Buffer) => (text += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(text) : reject(new Error(`h2load exited ${code}:\n${text}`))));
  });
}

/** Durations of the 2xx answers in h2load's per-request log (`start µs, status, duration µs`), sorted. */
async function successDurationsMs(logFile: string): Promise<number[]> {
  const durations: number[] = [];
  for (const line of (await readFile(logFile, 'utf8')).split('\n')) {
    const cols = line.split('\t');
    if (cols.length >= 3 && /^2\d\d$/.test(cols[1] ?? '')) durations.push(Number(cols[2]) / 1000);
  }
  return durations.sort((a, b) => a - b);
}
