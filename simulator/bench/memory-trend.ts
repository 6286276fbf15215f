/** One reading of the slow-stream gateway: seconds since all streams were open, its RSS, the streams open then. */
export interface MemorySample {
  readonly atS: number;
  readonly rssMb: number;
  readonly open: number;
}

/** Memory per open stream over the readings, as a straight line fitted to all of them. */
export interface PerStreamTrend {
  /** The fitted KB per open stream at the first and at the last reading. */
  readonly firstKb: number;
  readonly lastKb: number;
  /** The fitted growth, KB per open stream per second (what a stream gains as it relays its tokens). */
  readonly kbPerSecond: number;
  /** True when the fitted growth over `judgedOverS` is within {@link LEVEL_SHARE} of the fitted first reading. */
  readonly level: boolean;
}

/** Growth over the judged span, as a share of memory per stream at the first reading, that still counts as level. */
export const LEVEL_SHARE = 0.1;

/**
 * Fits memory per open stream — (RSS − idle) ÷ streams open at that reading — over time by least squares and
 * judges it level or growing: level when the fitted line grows by at most {@link LEVEL_SHARE} over `judgedOverS`
 * seconds (the bench: the time its slow streams take to relay 100 tokens, whatever the span of the readings).
 * Two raw readings (the bench's earlier method) can land either side of a collection or of a burst of buffers
 * being freed, so a level process read "growing" in one run and a growing one "level" in another; a line through
 * every reading is moved by one such step only in proportion to its share of the readings, while a stream that
 * keeps what it relays (a steady slope) still shows in full.
 */
export function perStreamTrend(idleMb: number, samples: readonly MemorySample[], judgedOverS: number): PerStreamTrend {
  const points = samples.filter((s) => s.open > 0).map((s) => ({ x: s.atS, y: ((s.rssMb - idleMb) * 1024) / s.open }));
  if (points.length === 0) return { firstKb: NaN, lastKb: NaN, kbPerSecond: NaN, level: false };
  const meanX = points.reduce((sum, p) => sum + p.x, 0) / points.length;
  const meanY = points.reduce((sum, p) => sum + p.y, 0) / points.length;
  const spread = points.reduce((sum, p) => sum + (p.x - meanX) ** 2, 0);
  const slope = spread === 0 ? 0 : points.reduce((sum, p) => sum + (p.x - meanX) * (p.y - meanY), 0) / spread;
  const at = (x: number): number => meanY + slope * (x - meanX);
  const firstKb = at(points[0]!.x);
  const lastKb = at(points[points.length - 1]!.x);
  return { firstKb, lastKb, kbPerSecond: slope, level: slope * judgedOverS <= firstKb * LEVEL_SHARE };
}
