import { describeFailures, failures, type LoadResult } from './h2load.js';
import type { SchedulerRow } from './scheduler-rows.js';
import type { OpenStreamsMemory } from './open-streams-memory.js';
import type { TtfbResult } from './stream-probes.js';
import { LEVEL_SHARE } from './memory-trend.js';

/** One measured side of a row, with the proxy process's CPU over the run (the bare proxy and the gateways). */
export interface Side {
  readonly result: LoadResult;
  /** Process CPU (user + system) over the run as % of one core; undefined for sides not measured. */
  readonly cpuPct?: number;
}

/** One load row: the same scenario and connection count on the three sides. */
export interface LoadRow {
  readonly scenario: string;
  readonly connections: number;
  readonly direct: Side;
  readonly bare: Side;
  readonly gateway: Side;
  /** The `--compare` build's gateway, run right before or after this one's. */
  readonly baseline?: Side;
}

/** A feature (metering, stream recovery) on and off for one stream kind at one connection count (on, off, on). */
export interface MeteringRow {
  readonly feature: 'metering' | 'stream recovery';
  readonly scenario: string;
  readonly connections: number;
  readonly on: readonly Side[];
  readonly off: Side;
}

export const f = (n: number, digits = 2): string => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

/** A signed difference: `+0.120`, `-0.040`. */
export const signed = (n: number, digits = 3): string => (Number.isFinite(n) && n >= 0 ? '+' : '') + f(n, digits);

export const percentile = (sorted: readonly number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

/** A proxy's CPU µs per answered call: CPU seconds per second over calls per second. */
export const cpuUsPerCall = (side: Side): number =>
  side.cpuPct === undefined ? NaN : ((side.cpuPct / 100) * 1e6) / side.result.rps;

/** The load table, one line per row; latency columns are over 2xx answers only. */
export function loadTable(rows: readonly LoadRow[]): string[] {
  const lines = [
    '| scenario | conns | direct rps | bare proxy rps (ratio) | gateway rps | ratio | gateway ÷ bare ratio ' +
      '| direct p50 ms | added p50 ms: bare / gateway | direct p99 ms | added p99 ms: bare / gateway ' +
      '| CPU µs per call: bare / gateway | not 2xx: direct / bare / gateway |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of rows) {
    const [d, b, g] = [r.direct.result, r.bare.result, r.gateway.result];
    const cells = [
      r.scenario,
      String(r.connections),
      f(d.rps, 0),
      `${f(b.rps, 0)} (${f(b.rps / d.rps)})`,
      f(g.rps, 0),
      f(g.rps / d.rps),
      `${f((g.rps / b.rps) * 100, 0)} %`,
      f(d.p50Ms, 3),
      `${f(b.p50Ms - d.p50Ms, 3)} / ${f(g.p50Ms - d.p50Ms, 3)}`,
      f(d.p99Ms, 3),
      `${f(b.p99Ms - d.p99Ms, 3)} / ${f(g.p99Ms - d.p99Ms, 3)}`,
      `${f(cpuUsPerCall(r.bare), 0)} / ${f(cpuUsPerCall(r.gateway), 0)}`,
      `${failures(d)} / ${failures(b)} / ${failures(g)}`,
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines;
}

/** One line per side of a row that had answers other than 2xx, saying what they were. */
export function failureNotes(rows: readonly LoadRow[], metering: readonly MeteringRow[]): string[] {
  const notes: string[] = [];
  const note = (what: string, result: LoadResult): void => {
    if (failures(result) > 0) notes.push(`- ${what}: ${failures(result)} not 2xx — ${describeFailures(result)}`);
    if (!(result.rps > 0)) notes.push(`- ${what}: no request finished within the run (${result.unfinished} in flight)`);
  };
  for (const r of rows) {
    for (const side of ['direct', 'bare', 'gateway', 'baseline'] as const) {
      const measured = r[side];
      if (measured !== undefined) note(`${r.scenario} c=${r.connections}, ${side}`, measured.result);
    }
  }
  for (const m of metering) {
    m.on.forEach((side, i) => note(`${m.feature} ${m.scenario} c=${m.connections}, on (run ${i + 1})`, side.result));
    note(`${m.feature} ${m.scenario} c=${m.connections}, off`, m.off.result);
  }
  return notes.length === 0 ? ['every request of every run above was answered 2xx'] : notes;
}

const mean = (values: readonly number[]): number => values.reduce((sum, v) => sum + v, 0) / values.length;

/**
 * What metering costs, two ways: the throughput lost (rps with metering against without), and the share
 * of the gateway's CPU per stream that metering takes — the throughput it would cost once the gateway
 * is the busier process, which the long streams' rps cannot show while the simulator bounds them.
 */
export function meteringCost(m: MeteringRow): { rpsPct: number; cpuPct: number } {
  const rpsOn = mean(m.on.map((s) => s.result.rps));
  const cpuOn = mean(m.on.map(cpuUsPerCall));
  return { rpsPct: (1 - rpsOn / m.off.result.rps) * 100, cpuPct: (1 - cpuUsPerCall(m.off) / cpuOn) * 100 };
}

export function meteringLine(m: MeteringRow): string {
  const cost = meteringCost(m);
  const runs = m.on.map((s) => f(s.result.rps, 0)).join(', ');
  const cpuRuns = m.on.map((s) => f(cpuUsPerCall(s), 0)).join(', ');
  const lost =
    cost.rpsPct >= 0
      ? `${f(cost.rpsPct, 1)} % less throughput with ${m.feature}`
      : `no throughput lost (the runs with ${m.feature} were ${f(-cost.rpsPct, 1)} % faster: noise)`;
  return (
    `- ${m.feature}, ${m.scenario}, ${m.connections} conns: ${f(mean(m.on.map((s) => s.result.rps)), 0)} rps ` +
    `with it (runs: ${runs}), ${f(m.off.result.rps, 0)} without → ${lost}; gateway CPU per stream ` +
    `${cpuRuns} µs with, ${f(cpuUsPerCall(m.off), 0)} µs without → ${m.feature} takes ${f(cost.cpuPct, 1)} % of it`
  );
}

export function ttfbLine(direct: TtfbResult, gateway: TtfbResult): string {
  const added = (p: number): number => percentile(gateway.samplesMs, p) - percentile(direct.samplesMs, p);
  const failed = [direct, gateway].some((r) => r.failed > 0)
    ? `; not counted: direct ${direct.failures.join(', ') || 'none'}, gateway ${gateway.failures.join(', ') || 'none'}`
    : '';
  return (
    `- stream time to first byte (1 connection, sequential; streams that opened only: direct ` +
    `${direct.samplesMs.length}, gateway ${gateway.samplesMs.length}): direct p50 ` +
    `${f(percentile(direct.samplesMs, 50), 3)} ms, gateway p50 ${f(percentile(gateway.samplesMs, 50), 3)} ms → ` +
    `added ${f(added(50), 3)} ms p50, ${f(added(99), 3)} ms p99${failed}`
  );
}

export function memoryLines(
  idle: { readonly idleMb: number; readonly afterFirstCallsMb: number },
  memory: OpenStreamsMemory,
  peaks: { readonly gateway: number; readonly bare: number },
  peakNote: string,
): string[] {
  return [
    `- idle RSS of the gateway after start: ${f(idle.idleMb, 1)} MB; 1 s after its first calls (one chat call, ` +
      `one stream): ${f(idle.afterFirstCallsMb, 1)} MB`,
    openStreamsLine(memory),
    `- peak RSS under the load runs (${peakNote}): ${f(peaks.gateway, 1)} MB; the bare proxy's in the same rows ` +
      `(node:http + undici, none of the gateway's features; its peak reset and read at the same moments): ` +
      `${f(peaks.bare, 1)} MB`,
  ];
}

/** The slow-stream test: how many were open at once, the readings, and the line fitted through them. */
function openStreamsLine(memory: OpenStreamsMemory): string {
  const { samples, trend } = memory;
  const first = samples[0];
  const last = samples[samples.length - 1];
  const notOpen = [
    memory.waiting > 0 ? `${memory.waiting} still waiting for a connection or a first chunk` : '',
    memory.failed > 0 ? `${memory.failed} failed` : '',
    memory.endedEarly > 0 ? `${memory.endedEarly} ended by the gateway before the cut` : '',
  ].filter((part) => part !== '');
  const readings = samples.map((s) => `${f(s.rssMb, 0)}/${s.open}`).join(', ');
  const perTokens = trend.kbPerSecond * trend.judgedOverS;
  return (
    `- ${memory.opened} of ${memory.requested} slow streams open at once` +
    `${notOpen.length > 0 ? ` (${notOpen.join(', ')}; not counted)` : ''}: ` +
    `RSS MB / streams open ${readings}, one reading a second (from ${f(memory.idleMb, 1)} MB idle) → per open ` +
    `stream ${f(trend.firstKb, 1)} KB at +${first?.atS ?? NaN} s, ${f(trend.lastKb, 1)} KB at +${last?.atS ?? NaN} s ` +
    `(a line fitted through the readings: ${f(perTokens, 1)} KB per stream per 100 tokens relayed, the farthest ` +
    `reading ${f(trend.largestStepKb, 1)} KB off the line; ${trend.verdict}: level is at most ` +
    `${f(LEVEL_SHARE * 100, 0)} % of the first per 100 tokens, no reading off by more than half that)` +
    liveLine(memory)
  );
}

/** The live readings after the RSS ones: what the streams hold once the garbage is collected (ADR 0071). */
function liveLine(memory: OpenStreamsMemory): string {
  const { live } = memory;
  if (live === undefined) {
    return "; live memory not read (no WebSocket client in this Node, or the gateway's inspector did not answer)";
  }
  const readings = live.samples.map((s) => `${f(s.rssMb, 1)}/${s.open} at +${f(s.atS, 1)} s`).join(', ');
  const { trend } = live;
  return (
    `; then live memory (V8 heap used + external after a full collection, read through the gateway's inspector) ` +
    `MB / streams open ${readings} (from ${f(live.idleMb, 1)} MB idle) → per open stream ${f(trend.firstKb, 1)} KB ` +
    `to ${f(trend.lastKb, 1)} KB, ${f(trend.kbPerSecond * trend.judgedOverS, 1)} KB per stream per 100 tokens, ` +
    `farthest reading ${f(trend.largestStepKb, 1)} KB off the line; ${trend.verdict}`
  );
}

export function schedulerTable(rows: readonly SchedulerRow[]): string[] {
  const base = rows[0];
  const lines = [
    '| calls queued | CPU µs per operation (enqueue + release + grant) | × the first row | work steps per operation |',
    '| ---: | ---: | ---: | ---: |',
  ];
  for (const r of rows) {
    const ratio = base === undefined ? NaN : r.cpuUsPerOp / base.cpuUsPerOp;
    lines.push(`| ${r.queued.toLocaleString('en-US')} | ${f(r.cpuUsPerOp, 1)} | ${f(ratio)} | ${f(r.stepsPerOp, 1)} |`);
  }
  return lines;
}
