import { failures } from './h2load.js';
import { cpuUsPerCall, f, percentile, type LoadRow, type Side } from './report.js';
import type { TtfbResult } from './stream-probes.js';

/** What `--compare` measured of the other build beside this one's figures. */
export interface Comparison {
  readonly label: string;
  readonly rows: readonly LoadRow[];
  readonly ttfbDirect: TtfbResult;
  readonly ttfb: { readonly gateway: TtfbResult; readonly baseline: TtfbResult };
  readonly idleMb: { readonly gateway: number; readonly baseline: number };
  /** RSS 1 s after each gateway's first calls (one chat call, one stream). */
  readonly afterFirstCallsMb?: { readonly gateway: number; readonly baseline: number };
  readonly peakMb: { readonly gateway: number; readonly baseline: number };
}

const geomean = (values: readonly number[]): number => {
  const finite = values.filter((v) => Number.isFinite(v) && v > 0);
  return finite.length === 0 ? NaN : Math.exp(finite.reduce((sum, v) => sum + Math.log(v), 0) / finite.length);
};

const rpsRatio = (gateway: Side, baseline: Side): number => gateway.result.rps / baseline.result.rps;
const cpuRatio = (gateway: Side, baseline: Side): number => cpuUsPerCall(gateway) / cpuUsPerCall(baseline);

/**
 * This build's gateway beside the other build's, row by row (same scenario, same connections, run one right
 * after the other): throughput and CPU per call as ratios of the two, latency added over the direct
 * simulator measured in the same row, then the geometric means of the ratios, time to first byte and memory.
 */
export function comparisonLines(c: Comparison): string[] {
  const lines = [
    `This build against ${c.label} (× baseline: this build ÷ the baseline; the same simulator, config and load):`,
    '',
    '| scenario | conns | rps: this / baseline | × baseline | added p50 ms: this / baseline ' +
      '| added p99 ms: this / baseline | CPU µs per call: this / baseline | × baseline | not 2xx: this / baseline |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  const paired = c.rows.flatMap((r) => (r.baseline === undefined ? [] : [{ row: r, baseline: r.baseline }]));
  for (const { row, baseline } of paired) lines.push(comparisonRow(row, baseline));
  const rps = geomean(paired.map(({ row, baseline }) => rpsRatio(row.gateway, baseline)));
  const cpu = geomean(paired.map(({ row, baseline }) => cpuRatio(row.gateway, baseline)));
  lines.push(
    '',
    `- over the ${paired.length} rows: rps ${f(rps)}× the baseline's, CPU per call ${f(cpu)}× (geometric means)`,
  );
  const ttfb = (t: TtfbResult): string => `${f(percentile(t.samplesMs, 50), 3)} / ${f(percentile(t.samplesMs, 99), 3)}`;
  lines.push(
    `- stream time to first byte p50 / p99 ms (1 connection, sequential): direct ${ttfb(c.ttfbDirect)}, ` +
      `this build ${ttfb(c.ttfb.gateway)}, baseline ${ttfb(c.ttfb.baseline)}` +
      ` (streams that did not open, not counted: ${c.ttfb.gateway.failed} / ${c.ttfb.baseline.failed})`,
    `- idle RSS after start: this build ${f(c.idleMb.gateway, 1)} MB, baseline ${f(c.idleMb.baseline, 1)} MB` +
      (c.afterFirstCallsMb === undefined
        ? ''
        : `; after the first calls: ${f(c.afterFirstCallsMb.gateway, 1)} / ${f(c.afterFirstCallsMb.baseline, 1)} MB`),
    `- peak RSS under the load runs: this build ${f(c.peakMb.gateway, 1)} MB, baseline ${f(c.peakMb.baseline, 1)} MB`,
  );
  return lines;
}

function comparisonRow(row: LoadRow, baseline: Side): string {
  const [d, g, b] = [row.direct.result, row.gateway.result, baseline.result];
  const cells = [
    row.scenario,
    String(row.connections),
    `${f(g.rps, 0)} / ${f(b.rps, 0)}`,
    f(rpsRatio(row.gateway, baseline)),
    `${f(g.p50Ms - d.p50Ms, 3)} / ${f(b.p50Ms - d.p50Ms, 3)}`,
    `${f(g.p99Ms - d.p99Ms, 3)} / ${f(b.p99Ms - d.p99Ms, 3)}`,
    `${f(cpuUsPerCall(row.gateway), 0)} / ${f(cpuUsPerCall(baseline), 0)}`,
    f(cpuRatio(row.gateway, baseline)),
    `${failures(g)} / ${failures(b)}`,
  ];
  return `| ${cells.join(' | ')} |`;
}
