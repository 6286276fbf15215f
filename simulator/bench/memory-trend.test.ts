import { describe, expect, it } from 'vitest';
import { perStreamTrend, type MemorySample } from './memory-trend.js';

const IDLE = 70;
/** The bench's span: its slow streams relay 100 tokens in 10 s. */
const OVER_S = 10;
/** Readings at +1…+8 s for `open` streams whose memory per stream (KB) at each second is `kb(second)`. */
const readings = (open: number, kb: (atS: number) => number): MemorySample[] =>
  Array.from({ length: 8 }, (_, i) => ({ atS: i + 1, rssMb: IDLE + (kb(i + 1) * open) / 1024, open }));

describe('perStreamTrend', () => {
  it('fits memory per stream exactly when it is a straight line', () => {
    const trend = perStreamTrend(
      IDLE,
      readings(1000, (s) => 160 + 1 * s),
      OVER_S,
    );
    expect(trend.kbPerSecond).toBeCloseTo(1, 6);
    expect(trend.firstKb).toBeCloseTo(161, 6);
    expect(trend.lastKb).toBeCloseTo(168, 6);
    expect(trend.level).toBe(true);
  });

  it('calls a stream that keeps what it relays growing, though the readings span less than the judged time', () => {
    // 2 KB a second on 160 KB: 14 KB (< 10 %) between the first and last reading, 20 KB (> 10 %) per 100 tokens.
    const trend = perStreamTrend(
      IDLE,
      readings(1000, (s) => 160 + 2 * s),
      OVER_S,
    );
    expect(trend.level).toBe(false);
    expect(trend.kbPerSecond).toBeCloseTo(2, 6);
  });

  it('does not call a level process level when one step in the middle moves two readings', () => {
    // A bump on readings 4–5 leaves the slope at 0, but no line fits: the bench cannot tell it from noise.
    const samples = readings(1000, (s) => (s >= 4 && s <= 5 ? 180 : 160));
    const trend = perStreamTrend(IDLE, samples, OVER_S);
    expect(trend.kbPerSecond).toBeCloseTo(0, 6);
    expect(trend.largestStepKb).toBeCloseTo(15, 6);
    expect(trend.verdict).toBe('unclear');
  });

  it('does not let one late free hide real growth', () => {
    // 6 KB a second (+60 KB per 100 tokens on ~240) and 52 KB per stream freed from the 5th reading on: the fitted
    // slope turns negative, so only the step check stands between this and "level".
    const samples = readings(512, (s) => 240 + 6 * s - (s >= 5 ? 52 : 0));
    const trend = perStreamTrend(IDLE, samples, OVER_S);
    expect(trend.kbPerSecond).toBeLessThan(0);
    expect(trend.level).toBe(false);
    expect(trend.verdict).toBe('unclear');
  });

  it('calls a lasting step late in the readings growing rather than level (the slope sees it)', () => {
    const samples = readings(512, (s) => (s >= 5 ? 253 : 240));
    expect(perStreamTrend(IDLE, samples, OVER_S).verdict).toBe('growing');
  });

  it('calls readings level when they scatter within half the allowance around a flat line', () => {
    const samples = readings(1000, (s) => 200 + (s % 2 === 0 ? 3 : -3));
    const trend = perStreamTrend(IDLE, samples, OVER_S);
    expect(trend.verdict).toBe('level');
    expect(trend.level).toBe(true);
  });

  it('divides by the streams open at each reading, not by those asked for', () => {
    const samples = readings(500, () => 200).map((s, i) => (i < 4 ? s : { ...s, open: 250 }));
    const trend = perStreamTrend(IDLE, samples, OVER_S);
    // The same RSS over half the streams: each open stream holds twice as much, and that is growth.
    expect(trend.lastKb).toBeGreaterThan(trend.firstKb * 1.5);
    expect(trend.level).toBe(false);
  });

  it('judges nothing when no stream was open', () => {
    const trend = perStreamTrend(
      IDLE,
      readings(0, () => 0),
      OVER_S,
    );
    expect(trend.level).toBe(false);
    expect(trend.verdict).toBe('unclear');
    expect(trend.firstKb).toBeNaN();
  });
});
