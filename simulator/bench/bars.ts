import { failures } from './h2load.js';
import { f, meteringCost, percentile, signed, type LoadRow, type MeteringRow } from './report.js';
import type { SchedulerRow } from './scheduler-rows.js';
import type { OpenStreamsMemory } from './open-streams-memory.js';
import type { TtfbResult } from './stream-probes.js';

/** Everything one run measured, for {@link barsTable}. */
export interface RunFigures {
  readonly rows: readonly LoadRow[];
  readonly metering: readonly MeteringRow[];
  readonly ttfbDirect: TtfbResult;
  readonly ttfbGateway: TtfbResult;
  readonly idleMb: number;
  readonly afterFirstCallsMb: number;
  readonly memory: OpenStreamsMemory;
  readonly peakMb: number;
  /** The bare proxy's peak RSS in the same load rows. */
  readonly barePeakMb: number;
  readonly scheduler: readonly SchedulerRow[];
}

export interface Bar {
  readonly bar: string;
  readonly measured: string;
  readonly met: boolean;
}

const topConnections = (run: Pick<RunFigures, 'rows'>): number => Math.max(...run.rows.map((r) => r.connections));

/** The bars of issue 14, each judged on this run's figures: met or missed, never rounded in our favour. */
export function barsTable(run: RunFigures): string[] {
  const bars = [...throughputBars(run), ...latencyBars(run), ...memoryBars(run), ...meteringBars(run)];
  bars.push(schedulerBar(run.scheduler), honestyBar(run));
  return [
    '| bar (issue 14) | this run | |',
    '| --- | --- | --- |',
    ...bars.map((b) => `| ${b.bar} | ${b.measured} | ${b.met ? 'met' : '**missed**'} |`),
  ];
}

function throughputBars(run: RunFigures): Bar[] {
  const top = topConnections(run);
  return run.rows
    .filter((r) => r.connections === top)
    .map((r) => {
      const ratio = r.gateway.result.rps / r.direct.result.rps;
      const ofBare = ratio / (r.bare.result.rps / r.direct.result.rps);
      return {
        bar: `${r.scenario}, ${top} conns: ≥ 0.25× direct and ≥ 60 % of the bare proxy's ratio`,
        measured: `${f(ratio)}× direct, ${f(ofBare * 100, 0)} % of the bare proxy's`,
        met: ratio >= 0.25 && ofBare >= 0.6,
      };
    });
}

function latencyBars(run: RunFigures): Bar[] {
  const bars: Bar[] = run.rows
    .filter((r) => r.connections === 1)
    .map((r) => {
      const p50 = r.gateway.result.p50Ms - r.direct.result.p50Ms;
      const p99 = r.gateway.result.p99Ms - r.direct.result.p99Ms;
      return {
        bar: `${r.scenario}, 1 conn: added ≤ 0.2 ms p50, ≤ 1 ms p99`,
        measured: `${signed(p50)} ms p50, ${signed(p99)} ms p99`,
        met: p50 <= 0.2 && p99 <= 1,
      };
    });
  const added = percentile(run.ttfbGateway.samplesMs, 50) - percentile(run.ttfbDirect.samplesMs, 50);
  bars.push({ bar: 'first byte of a stream added ≤ 0.5 ms p50', measured: `${signed(added)} ms`, met: added <= 0.5 });
  return bars;
}

/** What {@link memoryBars} reads of a run. */
type MemoryFigures = Pick<RunFigures, 'idleMb' | 'afterFirstCallsMb' | 'memory' | 'peakMb' | 'barePeakMb' | 'rows'>;

/** Idle, peak and per-stream memory against issue 14's bars (exported for its tests). */
export function memoryBars(run: MemoryFigures): Bar[] {
  const m = run.memory;
  const { firstKb, kbPerSecond, judgedOverS, largestStepKb, verdict } = m.trend;
  const ended = m.endedEarly > 0 ? `, ${m.endedEarly} ended early` : '';
  return [
    {
      bar: 'idle RSS after start ≤ 60 MB',
      measured: `${f(run.idleMb, 1)} MB (${f(run.afterFirstCallsMb, 1)} MB after the first calls)`,
      met: run.idleMb <= 60,
    },
    {
      bar: `peak RSS at ${topConnections(run)} connections ≤ 150 MB`,
      measured: `${f(run.peakMb, 1)} MB (the bare proxy ${f(run.barePeakMb, 1)} MB in the same rows)`,
      met: run.peakMb <= 150,
    },
    {
      bar: `memory per open stream bounded (${m.requested} slow streams)`,
      measured:
        `${m.opened} open at once${ended}; ${liveFigure(m)}RSS beside it ${f(firstKb, 1)} KB per stream, ` +
        `${signed(kbPerSecond * judgedOverS)} KB per 100 tokens relayed ` +
        `(a line through ${m.samples.length} readings, farthest ${f(largestStepKb, 1)} KB off it) (${verdict})`,
      // Judged on live memory: RSS over seconds counts garbage not yet collected (ADR 0071). Not read: missed.
      met: m.opened === m.requested && m.endedEarly === 0 && m.live !== undefined && m.live.trend.level,
    },
  ];
}

/** The live figure of the open streams, first in the bar's row when the bench read it. */
function liveFigure(m: OpenStreamsMemory): string {
  if (m.live === undefined) return 'judged on live memory: not read (n/a); ';
  const { firstKb, kbPerSecond, judgedOverS, verdict } = m.live.trend;
  return (
    `judged on live memory (after a full collection) ${f(firstKb, 1)} KB per stream, ` +
    `${signed(kbPerSecond * judgedOverS)} KB per 100 tokens (${verdict}); `
  );
}

function meteringBars(run: RunFigures): Bar[] {
  return run.metering.flatMap((m) => {
    if (m.feature !== 'metering') return [];
    const cost = meteringCost(m);
    // Metering cannot make the gateway faster: a "cost" below -10 % is noise larger than the bar itself,
    // and such a run decides nothing.
    const noise = cost.rpsPct < -10 || cost.cpuPct < -10;
    const measured = `${f(cost.rpsPct, 1)} % of the rps; ${f(cost.cpuPct, 1)} % of the gateway's CPU per stream`;
    return {
      bar: `metering < 10 % of streaming throughput (${m.scenario}, ${m.connections} conns)`,
      measured: noise ? `not measurable in this run: ${measured} (noise larger than the bar)` : measured,
      met: !noise && cost.rpsPct < 10 && cost.cpuPct < 10,
    };
  });
}

function schedulerBar(rows: readonly SchedulerRow[]): Bar {
  const first = rows[0];
  const last = rows[rows.length - 1];
  const ratio = first === undefined || last === undefined ? NaN : last.cpuUsPerOp / first.cpuUsPerOp;
  return {
    bar:
      `scheduler: ${last?.queued.toLocaleString('en-US')} queued within 2× ` +
      `the per-operation cost of ${first?.queued.toLocaleString('en-US')}`,
    measured: `${f(ratio)}× (${f(first?.cpuUsPerOp ?? NaN, 1)} → ${f(last?.cpuUsPerOp ?? NaN, 1)} µs)`,
    met: ratio <= 2,
  };
}

function honestyBar(run: RunFigures): Bar {
  const notOk = run.rows.reduce(
    (sum, r) => sum + failures(r.direct.result) + failures(r.bare.result) + failures(r.gateway.result),
    0,
  );
  // A slow stream outlasts the test: one that ended before the bench cut it was cut by the gateway — a failure.
  const streamsFailed = run.memory.failed + run.memory.endedEarly + run.ttfbGateway.failed + run.ttfbDirect.failed;
  // Slow streams still waiting for a connection are not failures (the memory bar names them); they are not counted.
  const waiting = run.memory.waiting > 0 ? `, ${run.memory.waiting} slow streams still waiting (not counted)` : '';
  return {
    bar: 'every side answered 2xx; TTFB and memory count only streams that opened',
    measured: `${notOk} load requests not 2xx; ${streamsFailed} probe streams did not open or ended early${waiting}`,
    met: notOk === 0 && streamsFailed === 0,
  };
}
