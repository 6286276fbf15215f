import { describe, expect, it } from 'vitest';
import { memoryBars } from './bars.js';
import { perStreamTrend, type MemorySample } from './memory-trend.js';
import type { OpenStreamsMemory } from './open-streams-memory.js';

const readings = (fromS: number, mb: (i: number) => number): MemorySample[] =>
  [1, 2, 3, 4, 5, 6, 7, 8].map((i) => ({ atS: fromS + i, rssMb: mb(i), open: 1000 }));

/** 1,000 streams open at once; RSS climbing 5 MB a second (garbage); live memory level or climbing. */
function memory(liveGrowthMbPerS: number | undefined, rssGrowthMbPerS = 5): OpenStreamsMemory {
  const samples = readings(0, (i) => 150 + rssGrowthMbPerS * i);
  const base = { requested: 1000, opened: 1000, failed: 0, waiting: 0, endedEarly: 0, idleMb: 56, samples };
  const trend = perStreamTrend(56, samples, 10);
  if (liveGrowthMbPerS === undefined) return { ...base, trend };
  const live = readings(8, (i) => 50 + liveGrowthMbPerS * i);
  return { ...base, trend, live: { idleMb: 10, samples: live, trend: perStreamTrend(10, live, 10) } };
}

const perStreamBar = (m: OpenStreamsMemory) =>
  memoryBars({ idleMb: 55, afterFirstCallsMb: 62, peakMb: 200, barePeakMb: 90, rows: [], memory: m }).find((b) =>
    b.bar.startsWith('memory per open stream'),
  )!;

describe('the per-open-stream bar (ADR 0071, session 8)', () => {
  it('is judged on live memory where it was read, the RSS line beside it', () => {
    const bar = perStreamBar(memory(0));
    expect(bar.met).toBe(true);
    const live =
      'judged on live memory (after a full collection) 41.0 KB per stream, +0.000 KB per 100 tokens (level); ';
    expect(bar.measured.startsWith(`1000 open at once; ${live}RSS beside it `)).toBe(true);
    expect(bar.measured).toMatch(/RSS .* KB per 100 tokens relayed .* \(growing\)$/);
  });

  it('is missed when live memory grows', () => {
    expect(perStreamBar(memory(1)).met).toBe(false);
  });

  it('is missed where live memory was not read, even with RSS level (a figure that is n/a is missed)', () => {
    expect(perStreamBar(memory(undefined, 0)).measured).toMatch(/RSS beside it .* \(level\)$/);
    const bar = perStreamBar(memory(undefined, 0));
    expect(bar.met).toBe(false);
    expect(bar.measured).toContain('judged on live memory: not read (n/a); ');
  });
});
