import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runH2load, stopH2load } from './h2load.js';
import { BenchProcesses, writeGatewayConfig, type BenchProcess } from './processes.js';
import { cpuSeconds, resetPeakRss, rssMb } from './process-stats.js';
import { barsTable } from './bars.js';
import {
  failureNotes,
  loadTable,
  memoryLines,
  meteringLine,
  schedulerTable,
  ttfbLine,
  type LoadRow,
  type MeteringRow,
  type Side,
} from './report.js';
import { schedulerRow } from './scheduler-rows.js';
import { streamCpuLine, streamCpuRows } from './stream-cpu-rows.js';
import { memoryWithOpenStreams, streamTtfb } from './stream-probes.js';

/**
 * `npm run bench`: the same load on the simulator called directly (the baseline), a bare Node reverse
 * proxy (the floor) and the gateway with its default features, in one run, and prints the ratios, the
 * memory figures, the scheduler's cost against its queue length, and each bar of issue 14 met or missed.
 * Every process runs on its own, on loopback only; every run is bounded by its duration; the temporary
 * folder and every child process are removed at the end, whatever happens.
 */
const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '1' },
    connections: { type: 'string', default: '1,50,200' },
    streams: { type: 'string', default: '1000' },
    quick: { type: 'boolean', default: false },
    // Only the stream rows with each feature on and off (metering, stream recovery): a minute, not ten.
    features: { type: 'boolean', default: false },
    // Only the in-process stream rows (CPU per stream with stream recovery / metering on and off).
    'stream-cpu': { type: 'boolean', default: false },
  },
});
const durationS = values.quick ? 2 : Number(values.duration);
const warmupS = values.quick ? 1 : Number(values.warmup);
const levels = values.connections.split(',').map(Number);
const top = Math.max(...levels);
const openStreams = Number(values.streams);
const dir = mkdtempSync(join(tmpdir(), 'gateway-bench-'));
const processes = new BenchProcesses();
/** 50 paced streams already mean 50,000 chunks a second through the gateway; 200 would measure the simulator. */
const LONG_STREAM_CONNECTIONS = 50;

interface Scenario {
  readonly name: string;
  readonly bodyFile: string;
  readonly headers: readonly string[];
  readonly levels: readonly number[];
}

function writeBodies(): { chat: Scenario; stream: Scenario; longStream: Scenario } {
  const messages = [{ role: 'user', content: 'Summarise the benefits of a gateway in one paragraph.' }];
  const file = (name: string, body: unknown): string => {
    const path = join(dir, name);
    writeFileSync(path, JSON.stringify(body));
    return path;
  };
  const chatFile = file('chat.json', { model: 'gpt-4o-mini', messages });
  const streamFile = file('chat-stream.json', { model: 'gpt-4o-mini', stream: true, messages });
  return {
    chat: { name: 'chat', bodyFile: chatFile, headers: [], levels },
    stream: { name: 'stream, 16 tokens in one read', bodyFile: streamFile, headers: [], levels },
    longStream: {
      name: 'stream, 300 tokens in 300 reads',
      bodyFile: streamFile,
      // A token a millisecond, each in its own write: 300 ms per stream, ~300 reads for the gateway. Paced, so
      // its rps is the pace's; the gateway's CPU per stream is what shows what metering costs on it.
      headers: ['x-sim-fault: tokens=300;tps=1000'],
      levels: [...new Set([Math.min(...levels), Math.min(LONG_STREAM_CONNECTIONS, top)])],
    },
  };
}

async function measure(url: string, scenario: Scenario, connections: number, pid?: number): Promise<Side> {
  const before = pid === undefined ? 0 : cpuSeconds(pid);
  const started = performance.now();
  const result = await runH2load({
    url: `${url}/v1/chat/completions`,
    bodyFile: scenario.bodyFile,
    headers: scenario.headers,
    connections,
    durationS,
    warmupS,
    logFile: join(dir, 'h2load.log'),
  });
  const elapsedS = (performance.now() - started) / 1000;
  return pid === undefined ? { result } : { result, cpuPct: ((cpuSeconds(pid) - before) / elapsedS) * 100 };
}

async function loadRows(
  scenarios: readonly Scenario[],
  sides: { direct: BenchProcess; bare: BenchProcess; gateway: BenchProcess },
): Promise<LoadRow[]> {
  const rows: LoadRow[] = [];
  for (const scenario of scenarios) {
    for (const [i, connections] of scenario.levels.entries()) {
      // Alternate which side goes first so that warm-up and drift on the machine do not favour one.
      const order = i % 2 === 0 ? (['direct', 'bare', 'gateway'] as const) : (['gateway', 'bare', 'direct'] as const);
      const measured: Partial<Record<'direct' | 'bare' | 'gateway', Side>> = {};
      for (const side of order) {
        const pid = side === 'gateway' ? sides.gateway.pid : undefined;
        measured[side] = await measure(sides[side].url, scenario, connections, pid);
      }
      const row = {
        scenario: scenario.name,
        connections,
        ...(measured as Record<'direct' | 'bare' | 'gateway', Side>),
      };
      rows.push(row);
      const rps = (s: Side): string => s.result.rps.toFixed(0);
      process.stderr.write(
        `  ${scenario.name} c=${connections}: direct ${rps(row.direct)}, ` +
          `bare ${rps(row.bare)}, gateway ${rps(row.gateway)} rps\n`,
      );
    }
  }
  return rows;
}

async function featureRows(
  feature: MeteringRow['feature'],
  scenarios: readonly Scenario[],
  on: BenchProcess,
  off: BenchProcess,
): Promise<MeteringRow[]> {
  const rows: MeteringRow[] = [];
  for (const scenario of scenarios) {
    const connections = Math.max(...scenario.levels);
    const runs: Side[] = [];
    runs.push(await measure(on.url, scenario, connections, on.pid));
    const offSide = await measure(off.url, scenario, connections, off.pid);
    runs.push(await measure(on.url, scenario, connections, on.pid));
    rows.push({ feature, scenario: scenario.name, connections, on: runs, off: offSide });
  }
  return rows;
}

async function main(): Promise<void> {
  if (values['stream-cpu']) {
    process.stdout.write((await streamCpuRows()).map(streamCpuLine).join('\n') + '\n');
    return;
  }
  const sim = await processes.start(
    'simulator',
    (port) => ['dist/simulator/main.js', '--port', String(port), '--no-record', '--name', 'bench'],
    () => ({}),
    '/_sim/health',
  );
  const gateway = await processes.start(
    'gateway',
    () => ['dist/shared/standalone/main.js'],
    (port) => ({ GATEWAY_CONFIG_FILE: writeGatewayConfig(dir, sim.url, port, true) }),
    '/health/live',
  );
  await new Promise((r) => setTimeout(r, 1_000));
  const idleMb = rssMb(gateway.pid).rssMb;
  const bare = await processes.start(
    'bare proxy',
    (port) => ['dist/simulator/bench/bare-proxy.js', String(port), sim.url],
    () => ({}),
    '/_sim/health',
  );
  const gatewayOff = await processes.start(
    'gateway (metering off)',
    () => ['dist/shared/standalone/main.js'],
    (port) => ({ GATEWAY_CONFIG_FILE: writeGatewayConfig(dir, sim.url, port, false) }),
    '/health/live',
  );
  // Stream recovery parses every event of a recoverable stream; this gateway relays them as bytes instead.
  const gatewayNoRecovery = await processes.start(
    'gateway (stream recovery off)',
    () => ['dist/shared/standalone/main.js'],
    (port) => ({ GATEWAY_CONFIG_FILE: writeGatewayConfig(dir, sim.url, port, true, 'off') }),
    '/health/live',
  );
  const { chat, stream, longStream } = writeBodies();
  const features = async (): Promise<MeteringRow[]> => [
    ...(await featureRows('metering', [stream, longStream], gateway, gatewayOff)),
    ...(await featureRows('stream recovery', [stream, longStream], gateway, gatewayNoRecovery)),
  ];
  if (values.features) {
    const rows = await features();
    await processes.stopAll();
    process.stdout.write([...failureNotes([], rows), ...rows.map(meteringLine)].join('\n') + '\n');
    return;
  }

  // Memory per open stream first, on a gateway that has seen no load yet; then the peak is reset so that
  // the peak reported is the load runs' own.
  const memory = await memoryWithOpenStreams(`${gateway.url}/v1/chat/completions`, gateway.pid, openStreams);
  const peakReset = resetPeakRss(gateway.pid);
  process.stderr.write(`  ${memory.opened} of ${openStreams} slow streams opened\n`);

  const rows = await loadRows([chat, stream, longStream], { direct: sim, bare, gateway });
  const metering = await features();

  const streamBody = JSON.stringify({
    model: 'gpt-4o-mini',
    stream: true,
    messages: [{ role: 'user', content: 'Hi' }],
  });
  const ttfbCount = values.quick ? 100 : 400;
  await streamTtfb(`${sim.url}/v1/chat/completions`, streamBody, 50);
  await streamTtfb(`${gateway.url}/v1/chat/completions`, streamBody, 50);
  const ttfbDirect = await streamTtfb(`${sim.url}/v1/chat/completions`, streamBody, ttfbCount);
  const ttfbGateway = await streamTtfb(`${gateway.url}/v1/chat/completions`, streamBody, ttfbCount);
  const peakMb = rssMb(gateway.pid).peakMb;
  await processes.stopAll();

  process.stderr.write('  scheduler rows (in process)\n');
  const scheduler = [1_000, 10_000, 100_000].map((queued) => schedulerRow(queued));
  process.stderr.write('  stream rows (in process)\n');
  const streamCpu = await streamCpuRows();

  const lines: string[] = [];
  const cpu = cpus()[0]?.model ?? 'cpu';
  lines.push(
    `machine: ${cpus().length} × ${cpu}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}; ` +
      `h2load --h1, ${durationS} s per run after ${warmupS} s warm-up; ${new Date().toISOString()}`,
    '',
    ...loadTable(rows),
    '',
    ...failureNotes(rows, metering).map((l) => (l.startsWith('- ') ? l : `- ${l}`)),
    ...metering.map(meteringLine),
    ...streamCpu.map(streamCpuLine),
    ttfbLine(ttfbDirect, ttfbGateway),
    ...memoryLines(
      idleMb,
      memory,
      peakMb,
      `up to ${top} connections; ${peakReset ? 'the slow-stream test before them excluded' : 'over the whole life'}`,
    ),
    '',
    ...schedulerTable(scheduler),
    '',
    ...barsTable({ rows, metering, ttfbDirect, ttfbGateway, idleMb, memory, peakMb, scheduler }),
  );
  process.stdout.write(lines.join('\n') + '\n');
}

let cleaned = false;
async function cleanUp(): Promise<void> {
  if (cleaned) return;
  cleaned = true;
  stopH2load();
  await processes.stopAll();
  rmSync(dir, { recursive: true, force: true });
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stderr.write(`bench: ${signal}, stopping\n`);
    void cleanUp().finally(() => process.exit(130));
  });
}

main()
  .catch((error: unknown) => {
    process.stderr.write(`bench failed: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  })
  .finally(() => void cleanUp());
