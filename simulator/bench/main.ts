import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { baselineBuild } from './baseline-build.js';
import { barsTable, type RunFigures } from './bars.js';
import { benchOptions, type BenchOptions } from './bench-options.js';
import { loadPeaks, resetPeaks, slowStreamMemory, startSides, type BenchSides } from './bench-sides.js';
import { comparisonLines, type Comparison } from './compare-report.js';
import { stopH2load } from './h2load.js';
import { featureRows, loadRows, warmUp, type RunSettings } from './load-runs.js';
import { BenchProcesses } from './processes.js';
import { failureNotes, loadTable, memoryLines, meteringLine, schedulerTable, ttfbLine } from './report.js';
import type { LoadRow, MeteringRow } from './report.js';
import { writeScenarios, type Scenarios } from './scenarios.js';
import { schedulerRow } from './scheduler-rows.js';
import { streamCpuLine, streamCpuRows, type StreamCpuRow } from './stream-cpu-rows.js';
import { streamTtfb, type TtfbResult } from './stream-probes.js';

/**
 * `npm run bench`: the same load on the simulator called directly (the baseline), a bare Node reverse
 * proxy (the floor) and the gateway with its default features, in one run, and prints the ratios, the
 * memory figures, the scheduler's cost against its queue length, and each bar of issue 14 met or missed.
 * `--compare <build>` also runs another build's gateway in the same load rows, right beside this one's, and
 * prints the two builds' figures side by side with their ratios.
 * Every process runs on its own, on loopback only; every run is bounded by its duration; the temporary
 * folder and every child process are removed at the end, whatever happens.
 */
const options = ((): BenchOptions => {
  try {
    return benchOptions();
  } catch (error) {
    process.stderr.write(`bench: ${(error as Error).message}\n`);
    process.exit(2);
  }
})();
const dir = mkdtempSync(join(tmpdir(), 'gateway-bench-'));
const settings: RunSettings = { durationS: options.durationS, warmupS: options.warmupS, dir };
const processes = new BenchProcesses();

const print = (lines: readonly string[]): void => void process.stdout.write(lines.join('\n') + '\n');

async function main(): Promise<void> {
  if (options.streamCpu) return print((await streamCpuRows()).map(streamCpuLine));
  // Built before any process starts, so that the build's CPU never overlaps a measurement.
  const baseline = options.compare === undefined ? undefined : baselineBuild(options.compare, dir);
  const sides = await startSides(processes, dir, baseline);
  const scenarios = writeScenarios(dir, options.levels);
  if (options.features) {
    const rows = await features(sides, scenarios);
    await processes.stopAll();
    return print([...failureNotes([], rows), ...rows.map(meteringLine)]);
  }
  print(await fullRun(sides, scenarios));
}

/**
 * The feature rows. Their three gateways are warmed up alike first: those with a feature off have run nothing
 * before, and a cold side would make the feature look cheaper than it is (ADR 0081). With the 16-token stream only:
 * the paced one runs the same path, and its streams cut at the end of a run would each cost an estimate.
 */
async function features(sides: BenchSides, { stream, longStream }: Scenarios): Promise<MeteringRow[]> {
  await warmUp(settings, [stream], [sides.gateway, sides.gatewayOff, sides.gatewayNoRecovery]);
  return [
    ...(await featureRows(settings, 'metering', [stream, longStream], sides.gateway, sides.gatewayOff)),
    ...(await featureRows(settings, 'stream recovery', [stream, longStream], sides.gateway, sides.gatewayNoRecovery)),
  ];
}

/** The whole bench: slow streams, load rows, features, first byte; then the in-process rows; the report. */
async function fullRun(sides: BenchSides, scenarios: Scenarios): Promise<string[]> {
  // Memory per open stream on a gateway of its own (stopped after it); the load gateway's peak is reset right
  // before the load runs and read right after them, so the peak reported is the load runs' own (ADR 0063).
  const memory = await slowStreamMemory(processes, dir, sides, options.openStreams);
  process.stderr.write(`  ${memory.opened} of ${options.openStreams} slow streams open at once\n`);
  const loadSides = { direct: sides.sim, bare: sides.bare, gateway: sides.gateway, baseline: sides.baseline?.process };
  const loadScenarios = [scenarios.chat, scenarios.stream, scenarios.longStream];
  process.stderr.write('  warm-up: chat and stream once on every side at one connection\n');
  // The paced stream runs the stream path that the 16-token rows have warmed by the time it comes.
  const warmSides = [sides.sim, sides.bare, sides.gateway, ...(sides.baseline ? [sides.baseline.process] : [])];
  await warmUp(settings, [scenarios.chat, scenarios.stream], warmSides);
  // Reset after the warm-up: the peak reported is the rows' own.
  const peakReset = resetPeaks(sides);
  const rows = await loadRows(settings, loadScenarios, loadSides);
  const peaks = loadPeaks(sides);
  const { gateway: peakMb, bare: barePeakMb } = peaks;
  const metering = await features(sides, scenarios);
  const [ttfbDirect, ttfbGateway, ttfbBaseline] = await ttfbRuns(sides);
  const comparison = comparisonOf(sides, rows, [ttfbDirect, ttfbGateway, ttfbBaseline], peaks);
  await processes.stopAll();

  process.stderr.write('  scheduler rows (in process)\n');
  const scheduler = [1_000, 10_000, 100_000].map((queued) => schedulerRow(queued));
  process.stderr.write('  stream rows (in process)\n');
  const streamCpu = await streamCpuRows();
  const { idleMb, afterFirstCallsMb } = sides;
  const run = {
    rows,
    metering,
    ttfbDirect,
    ttfbGateway,
    idleMb,
    afterFirstCallsMb,
    memory,
    peakMb,
    barePeakMb,
    scheduler,
  };
  return [...reportLines(run, streamCpu, peakReset), ...(comparison ? ['', ...comparisonLines(comparison)] : [])];
}

/** Time to first byte, direct then through each gateway: a warm-up of 50 streams each, then the counted ones. */
async function ttfbRuns(sides: BenchSides): Promise<[TtfbResult, TtfbResult, TtfbResult?]> {
  const body = JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'Hi' }] });
  const urls = [sides.sim, sides.gateway, sides.baseline?.process].flatMap((p) => (p ? [p.url] : []));
  for (const url of urls) await streamTtfb(`${url}/v1/chat/completions`, body, 50);
  const results: TtfbResult[] = [];
  for (const url of urls) results.push(await streamTtfb(`${url}/v1/chat/completions`, body, options.quick ? 100 : 400));
  return results as [TtfbResult, TtfbResult, TtfbResult?];
}

/** The `--compare` figures, read while the baseline's gateway still runs; undefined without one. */
function comparisonOf(
  sides: BenchSides,
  rows: readonly LoadRow[],
  [direct, gateway, baseline]: readonly [TtfbResult, TtfbResult, TtfbResult?],
  peakMb: { readonly gateway: number; readonly baseline: number },
): Comparison | undefined {
  if (sides.baseline === undefined || baseline === undefined) return undefined;
  return {
    label: sides.baseline.label,
    rows,
    ttfbDirect: direct,
    ttfb: { gateway, baseline },
    idleMb: { gateway: sides.idleMb, baseline: sides.baseline.idleMb },
    afterFirstCallsMb: { gateway: sides.afterFirstCallsMb, baseline: sides.baseline.afterFirstCallsMb },
    peakMb,
  };
}

function reportLines(run: RunFigures, streamCpu: readonly StreamCpuRow[], peakReset: boolean): string[] {
  const cpu = cpus()[0]?.model ?? 'cpu';
  const top = Math.max(...options.levels);
  return [
    `machine: ${cpus().length} × ${cpu}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}; ` +
      `h2load --h1, ${options.durationS} s per run after ${options.warmupS} s warm-up; ${new Date().toISOString()}`,
    '',
    ...loadTable(run.rows),
    '',
    ...failureNotes(run.rows, run.metering).map((l) => (l.startsWith('- ') ? l : `- ${l}`)),
    ...run.metering.map(meteringLine),
    ...streamCpu.map(streamCpuLine),
    ttfbLine(run.ttfbDirect, run.ttfbGateway),
    ...memoryLines(
      run,
      run.memory,
      { gateway: run.peakMb, bare: run.barePeakMb },
      `up to ${top} connections, read right after them; ` +
        (peakReset ? 'start-up excluded; the slow streams ran on a gateway of their own' : 'over the whole life'),
    ),
    '',
    ...schedulerTable(run.scheduler),
    '',
    ...barsTable(run),
  ];
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
