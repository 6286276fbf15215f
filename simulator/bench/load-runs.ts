import { join } from 'node:path';
import { runH2load } from './h2load.js';
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

/** One h2load run against `url`, with the CPU the process `pid` used over it (gateways only). */
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
    logFile: join(settings.dir, 'h2load.log'),
  });
  const elapsedS = (performance.now() - started) / 1000;
  return pid === undefined ? { result } : { result, cpuPct: ((cpuSeconds(pid) - before) / elapsedS) * 100 };
}

/**
 * Every scenario at each of its connection counts on every side. The order alternates from row to row so that
 * warm-up and drift on the machine favour no side, and the two gateways always run one right after the other.
 */
export async function loadRows(
  settings: RunSettings,
  scenarios: readonly Scenario[],
  sides: LoadSides,
): Promise<LoadRow[]> {
  const forward: SideName[] = ['direct', 'bare', 'gateway', ...(sides.baseline ? (['baseline'] as const) : [])];
  const rows: LoadRow[] = [];
  for (const scenario of scenarios) {
    for (const [i, connections] of scenario.levels.entries()) {
      const measured: Partial<Record<SideName, Side>> = {};
      for (const name of i % 2 === 0 ? forward : [...forward].reverse()) {
        const side = sides[name] as BenchProcess;
        const pid = name === 'gateway' || name === 'baseline' ? side.pid : undefined;
        measured[name] = await measure(settings, side.url, scenario, connections, pid);
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
