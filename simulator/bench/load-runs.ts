import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describeFailures, failures, runH2load } from './h2load.js';
import type { BenchProcess } from './processes.js';
import { cpuSeconds } from './process-stats.js';
import type { LoadRow, MeteringRow, Side } from './report.js';
import type { Scenario } from './scenarios.js';

/** How long each h2load run lasts, and where it logs. */
export interface RunSettings {
  readonly durationS: number;
  readonly warmupS: number;
  readonly dir: string;
}

/** The processes a load row puts the same load on; `baseline` only with `--compare`. */
export interface LoadSides {
  readonly direct: BenchProcess;
  readonly bare: BenchProcess;
  readonly gateway: BenchProcess;
  readonly baseline?: BenchProcess;
}

type SideName = 'direct' | 'bare' | 'gateway' | 'baseline';

/**
 * Where h2load writes its per-request log: a folder of its own inside the run's folder. The gateways' configuration
 * files sit in the run's folder, and a gateway watches its configuration file's folder (inotify reports every write
 * to any file in it, ADR 0081): a log written there woke every gateway of the run once per request of every row —
 * 12–16 % of a core each while the simulator was called directly.
 */
export function h2loadLogFile(dir: string): string {
  const logDir = join(dir, 'h2load');
  mkdirSync(logDir, { recursive: true });
  return join(logDir, 'h2load.log');
}

/** One h2load run against `url`, with the CPU the process `pid` used over it (the proxies: bare and gateways). */
export async function measure(
  settings: RunSettings,
  url: string,
  scenario: Scenario,
  connections: number,
  pid?: number,
): Promise<Side> {
  const before = pid === undefined ? 0 : cpuSeconds(pid);
  const started = performance.now();
  const result = await runH2load({
    url: `${url}/v1/chat/completions`,
    bodyFile: scenario.bodyFile,
    headers: scenario.headers,
    connections,
    durationS: settings.durationS,
    warmupS: settings.warmupS,
    logFile: h2loadLogFile(settings.dir),
  });
  const elapsedS = (performance.now() - started) / 1000;
  return pid === undefined ? { result } : { result, cpuPct: ((cpuSeconds(pid) - before) / elapsedS) * 100 };
}

/** How long each side runs each warm-up scenario before the first load row. */
export const WARM_UP_S = 4;

/**
 * Runs each scenario once on every process given, at one connection, before the rows that measure them, so that a
 * first row measures calls, not the start-up's JIT compilation: on a fresh gateway the first 1-connection row cost
 * 1.7–3.4× the CPU per call of the same row run again (ADR 0081). h2load's own warm-up (1 s on the row's
 * connections) is ~2,000 calls at one connection, too few for V8 to finish optimising the call's path. One
 * connection whatever the rows' counts: compilation needs calls, not concurrency, and a warm-up at 200 connections
 * would leave the grown heap behind it in the peak RSS that the rows report. A call the warm-up saw fail is
 * reported (a side broken from its start would otherwise show it nowhere: the rows start warm).
 */
export async function warmUp(
  settings: RunSettings,
  scenarios: readonly Scenario[],
  sides: readonly BenchProcess[],
  run: typeof measure = measure,
): Promise<void> {
  const warm = { ...settings, durationS: Math.min(settings.durationS, WARM_UP_S), warmupS: 0 };
  for (const scenario of scenarios) {
    for (const side of sides) {
      const { result } = await run(warm, side.url, scenario, 1);
      if (failures(result) > 0)
        process.stderr.write(`  warm-up ${scenario.name} on ${side.name}: ${describeFailures(result)}\n`);
    }
  }
}

/**
 * Every scenario at each of its connection counts on every side. The order alternates from row to row so that
 * warm-up and drift on the machine favour no side, and the two gateways always run one right after the other.
 */
export async function loadRows(
  settings: RunSettings,
  scenarios: readonly Scenario[],
  sides: LoadSides,
  run: typeof measure = measure,
): Promise<LoadRow[]> {
  const forward: SideName[] = ['direct', 'bare', 'gateway', ...(sides.baseline ? (['baseline'] as const) : [])];
  const rows: LoadRow[] = [];
  for (const scenario of scenarios) {
    for (const [i, connections] of scenario.levels.entries()) {
      const measured: Partial<Record<SideName, Side>> = {};
      for (const name of i % 2 === 0 ? forward : [...forward].reverse()) {
        const side = sides[name] as BenchProcess;
        // The bare proxy's CPU per call is the floor a Node proxy pays on this machine at this row (ADR 0081).
        const pid = name === 'direct' ? undefined : side.pid;
        measured[name] = await run(settings, side.url, scenario, connections, pid);
      }
      const row = {
        scenario: scenario.name,
        connections,
        ...(measured as Record<'direct' | 'bare' | 'gateway', Side>),
      };
      rows.push(row);
      const rps = (s: Side | undefined): string => (s === undefined ? '' : s.result.rps.toFixed(0));
      const baseline = measured.baseline === undefined ? '' : `, baseline ${rps(measured.baseline)}`;
      process.stderr.write(
        `  ${scenario.name} c=${connections}: direct ${rps(row.direct)}, ` +
          `bare ${rps(row.bare)}, gateway ${rps(row.gateway)}${baseline} rps\n`,
      );
    }
  }
  return rows;
}

/** A feature on, off, on again, for each stream scenario at its highest connection count. */
export async function featureRows(
  settings: RunSettings,
  feature: MeteringRow['feature'],
  scenarios: readonly Scenario[],
  on: BenchProcess,
  off: BenchProcess,
): Promise<MeteringRow[]> {
  const rows: MeteringRow[] = [];
  for (const scenario of scenarios) {
    const connections = Math.max(...scenario.levels);
    const runs: Side[] = [];
    runs.push(await measure(settings, on.url, scenario, connections, on.pid));
    const offSide = await measure(settings, off.url, scenario, connections, off.pid);
    runs.push(await measure(settings, on.url, scenario, connections, on.pid));
    rows.push({ feature, scenario: scenario.name, connections, on: runs, off: offSide });
  }
  return rows;
}
