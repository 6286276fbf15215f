/** One reading of the slow-stream gateway: seconds since all streams were open, its RSS, the streams open then. */
export interface MemorySample {
  readonly atS: number;
  readonly rssMb: number;
  readonly open: number;
}

/** What the readings say: level, growing, or too uneven to call level (a step the line cannot tell from growth). */
export type TrendVerdict = 'level' | 'growing' | 'unclear';

/** Memory per open stream over the readings, as a straight line fitted to all of them. */
export interface PerStreamTrend {
  /** The fitted KB per open stream at the first and at the last reading. */
  readonly firstKb: number;
  readonly lastKb: number;
  /** The fitted growth, KB per open stream per second (what a stream gains as it relays its tokens). */
  readonly kbPerSecond: number;
  /** The span growth is judged over, seconds (the bench: the time its slow streams take to relay 100 tokens). */
  readonly judgedOverS: number;
  /** The reading farthest from the line, KB per stream: a collection or a burst of freed buffers shows here. */
  readonly largestStepKb: number;
  readonly verdict: TrendVerdict;
  /** True only when the verdict is `level`. */
  readonly level: boolean;
}

/** Growth over the judged span, as a share of memory per stream at the first reading, that still counts as level. */
export const LEVEL_SHARE = 0.1;

/**
 * Fits memory per open stream — (RSS − idle) ÷ streams open at that reading — over time by least squares and
 * judges it: growing when the line grows by more than {@link LEVEL_SHARE} of the first figure over `judgedOverS`
 * seconds; level when it does not and no reading strays from the line by more than half that allowance; unclear
 * otherwise. A line through every reading is not immune to one step (a mark-compact freeing buffers, a burst):
 * a lasting step late in the readings moves the slope by about twice its size per 10 s, and can hide real growth
 * as well as fake it — so a reading far from the line never lets the bench call memory level.
 */
export function perStreamTrend(idleMb: number, samples: readonly MemorySample[], judgedOverS: number): PerStreamTrend {
  const points = samples.filter((s) => s.open > 0).map((s) => ({ x: s.atS, y: ((s.rssMb - idleMb) * 1024) / s.open }));
  if (points.length === 0) {
    return {
      firstKb: NaN,
      lastKb: NaN,
      kbPerSecond: NaN,
      judgedOverS,
      largestStepKb: NaN,
      verdict: 'unclear',
      level: false,
    };
  }
  const meanX = points.reduce((sum, p) => sum + p.x, 0) / points.length;
  const meanY = points.reduce((sum, p) => sum + p.y, 0) / points.length;
  const spread = points.reduce((sum, p) => sum + (p.x - meanX) ** 2, 0);
  const slope = spread === 0 ? 0 : points.reduce((sum, p) => sum + (p.x - meanX) * (p.y - meanY), 0) / spread;
  const at = (x: number): number => meanY + slope * (x - meanX);
  const firstKb = at(points[0]!.x);
  const lastKb = at(points[points.length - 1]!.x);
  const largestStepKb = Math.max(...points.map((p) => Math.abs(p.y - at(p.x))));
  const allowance = firstKb * LEVEL_SHARE;
  const verdict: TrendVerdict =
    slope * judgedOverS > allowance ? 'growing' : largestStepKb > allowance / 2 ? 'unclear' : 'level';
  return { firstKb, lastKb, kbPerSecond: slope, judgedOverS, largestStepKb, verdict, level: verdict === 'level' };
}
