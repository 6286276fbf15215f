import { spawn } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';

/** One h2load run's figures. */
export interface LoadResult {
  readonly rps: number;
  readonly succeeded: number;
  readonly failed: number;
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
}

/**
 * Runs h2load (HTTP/1.1, one request in flight per connection, warm-up on the same connections) and
 * reads its per-request log for latency percentiles. h2load is a C load generator that costs little
 * CPU, so it disturbs the two cores it measures on far less than a Node load generator would.
 */
export async function runH2load(options: LoadOptions): Promise<LoadResult> {
  await rm(options.logFile, { force: true });
  const args = [
    '--h1',
    '-c',
    String(options.connections),
    '-m',
    '1',
    '-D',
    String(options.durationS),
    `--warm-up-time=${options.warmupS}`,
    '-d',
    options.bodyFile,
    '-H',
    'content-type: application/json',
    `--log-file=${options.logFile}`,
    options.url,
  ];
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn('h2load', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (d: Buffer) => (text += d.toString()));
    child.stderr.on('data', (d: Buffer) => (text += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(text) : reject(new Error(`h2load exited ${code}:\n${text}`))));
  });
  const rps = Number(/finished in [\d.]+\w+, ([\d.]+) req\/s/.exec(output)?.[1] ?? NaN);
  const counts = /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed/.exec(output);
  const status2xx = Number(/status codes: (\d+) 2xx/.exec(output)?.[1] ?? 0);
  const durations: number[] = [];
  for (const line of (await readFile(options.logFile, 'utf8')).split('\n')) {
    const cols = line.split('\t');
    if (cols.length >= 3 && cols[1] === '200') durations.push(Number(cols[2]) / 1000);
  }
  durations.sort((a, b) => a - b);
  const pct = (p: number): number =>
    durations[Math.min(durations.length - 1, Math.floor((p / 100) * durations.length))] ?? NaN;
  // Failed = requests that did not end in a 2xx (h2load's own failures, errors and non-2xx statuses).
  const done = Number(counts?.[3] ?? 0);
  return {
    rps,
    succeeded: status2xx,
    failed: Math.max(0, done - status2xx) + Number(counts?.[5] ?? 0),
    p50Ms: pct(50),
    p99Ms: pct(99),
  };
}
