import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { baselineBuild } from './baseline-build.js';
import { benchOptions } from './bench-options.js';
import { comparisonLines } from './compare-report.js';
import type { LoadResult } from './h2load.js';
import type { Side } from './report.js';

const side = (rps: number, p50Ms: number, cpuPct?: number): Side => {
  const result: LoadResult = { rps, succeeded: rps, non2xx: {}, errored: 0, unfinished: 0, p50Ms, p99Ms: p50Ms * 2 };
  return cpuPct === undefined ? { result } : { result, cpuPct };
};
const ttfb = (ms: number) => ({ samplesMs: [ms], failed: 0, failures: [] });

describe('npm run bench -- --compare', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
  const tempDir = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-compare-test-'));
    dirs.push(dir);
    return dir;
  };

  it('takes the build to compare with, and refuses it with the modes that run one build only', () => {
    expect(benchOptions(['--compare', 'abc123', '--quick'])).toMatchObject({ compare: 'abc123', durationS: 2 });
    expect(benchOptions([]).compare).toBeUndefined();
    expect(() => benchOptions(['--compare', 'abc123', '--features'])).toThrow(/--compare .* --features/);
    expect(() => benchOptions(['--compare', 'abc123', '--stream-cpu'])).toThrow(/--stream-cpu/);
  });

  it('uses a built checkout or its dist folder as it is', () => {
    const checkout = tempDir();
    mkdirSync(join(checkout, 'dist', 'shared', 'standalone'), { recursive: true });
    writeFileSync(join(checkout, 'dist', 'shared', 'standalone', 'main.js'), '');
    expect(baselineBuild(checkout, tempDir()).dist).toBe(join(checkout, 'dist'));
    expect(baselineBuild(join(checkout, 'dist'), tempDir()).dist).toBe(join(checkout, 'dist'));
  });

  it('says what is wrong with a folder that holds no build or a name that is no revision', () => {
    const empty = tempDir();
    expect(() => baselineBuild(empty, tempDir())).toThrow(/shared\/standalone\/main\.js exists/);
    expect(() => baselineBuild('no-such-revision-or-folder', tempDir())).toThrow(/not a git revision/);
  });

  it('prints both builds per row with their ratios, and the geometric means over the rows', () => {
    const direct = side(1000, 1);
    const rows = [
      { scenario: 'chat', connections: 1, direct, bare: direct, gateway: side(400, 2, 40), baseline: side(200, 3, 40) },
      {
        scenario: 'chat',
        connections: 50,
        direct,
        bare: direct,
        gateway: side(300, 5, 60),
        baseline: side(600, 4, 30),
      },
    ];
    const lines = comparisonLines({
      label: 'abc123',
      rows,
      ttfbDirect: ttfb(0.5),
      ttfb: { gateway: ttfb(1.5), baseline: ttfb(2) },
      idleMb: { gateway: 90, baseline: 95 },
      peakMb: { gateway: 200, baseline: 250 },
    });
    // 400 vs 200 rps: 2×; CPU 1,000 vs 2,000 µs per call: 0.5×. 300 vs 600: 0.5×; 2,000 vs 500 µs: 4×.
    expect(lines).toContain(
      '| chat | 1 | 400 / 200 | 2.00 | 1.000 / 2.000 | 2.000 / 4.000 | 1000 / 2000 | 0.50 | 0 / 0 |',
    );
    expect(lines).toContain(
      '| chat | 50 | 300 / 600 | 0.50 | 4.000 / 3.000 | 8.000 / 6.000 | 2000 / 500 | 4.00 | 0 / 0 |',
    );
    expect(lines).toContain("- over the 2 rows: rps 1.00× the baseline's, CPU per call 1.41× (geometric means)");
    expect(lines.join('\n')).toMatch(/this build 1\.500 \/ 1\.500, baseline 2\.000 \/ 2\.000/);
    expect(lines.join('\n')).toMatch(/idle RSS after start: this build 90\.0 MB, baseline 95\.0 MB/);
  });
});
