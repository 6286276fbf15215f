import { describe, expect, it } from 'vitest';
import { perStreamTrend } from './memory-trend.js';
import type { OpenStreamsMemory } from './open-streams-memory.js';
import { memoryLines } from './report.js';

describe("the bench's memory report", () => {
  it("prints the bare proxy's peak beside the gateway's, from the same load rows", () => {
    const samples = Array.from({ length: 8 }, (_, i) => ({ atS: i + 1, rssMb: 170, open: 1000 }));
    const memory: OpenStreamsMemory = {
      requested: 1000,
      opened: 1000,
      failed: 0,
      waiting: 0,
      endedEarly: 0,
      idleMb: 70,
      samples,
      trend: perStreamTrend(70, samples, 10),
    };
    const lines = memoryLines({ idleMb: 65, afterFirstCallsMb: 68 }, memory, { gateway: 190.5, bare: 144.4 }, 'note');
    expect(lines.at(-1)).toMatch(
      /^- peak RSS under the load runs \(note\): 190\.5 MB; the bare proxy's .*: 144\.4 MB$/,
    );
  });
});
