import { appendFileSync, mkdtempSync, rmSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { LoadResult } from './h2load.js';
import { h2loadLogFile, loadRows, warmUp, type LoadSides, type RunSettings } from './load-runs.js';
import type { BenchProcess } from './processes.js';
import { writeGatewayConfig } from './processes.js';
import { loadTable } from './report.js';
import type { Scenario } from './scenarios.js';

const proc = (name: string, pid = 0): BenchProcess => ({ name, url: `http://${name}`, child: undefined as never, pid });
const result = (rps: number): LoadResult => ({
  rps,
  succeeded: rps,
  non2xx: {},
  errored: 0,
  unfinished: 0,
  p50Ms: 1,
  p99Ms: 2,
});
const scenario = (name: string, levels: number[]): Scenario => ({ name, bodyFile: 'x', headers: [], levels });

describe('the bench load runs', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => cleanups.splice(0).forEach((c) => c()));

  it("writes h2load's per-request log where no gateway's configuration watcher sees it", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-load-runs-test-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const config = writeGatewayConfig(dir, 'http://127.0.0.1:1', 1, true);
    const seen: string[] = [];
    let sentinel: () => void = () => undefined;
    const sentinelSeen = new Promise<void>((resolve) => (sentinel = resolve));
    // What a gateway watches: its configuration file's folder (json-file-config-source.ts).
    const watcher: FSWatcher = watch(dirname(config), (_event, name) => {
      seen.push(String(name));
      if (name === 'sentinel') sentinel();
    });
    cleanups.push(() => watcher.close());
    const log = h2loadLogFile(dir);
    for (let i = 0; i < 3; i++) appendFileSync(log, `${i}\t200\t100\n`);
    // inotify reports a folder's events in order: once the sentinel's arrived, any of the log's had arrived before.
    writeFileSync(join(dir, 'sentinel'), '');
    await sentinelSeen;
    // The log's folder is created once; no write to the log reaches the watcher.
    expect(seen.filter((name) => name !== 'sentinel')).toEqual(['h2load']);
  });

  it('warms each scenario up on every side at one connection, without a warm-up of its own', async () => {
    const sides = [proc('d'), proc('b'), proc('g'), proc('o')];
    const settings: RunSettings = { durationS: 5, warmupS: 1, dir: '/nowhere' };
    const runs: string[] = [];
    await warmUp(settings, [scenario('chat', [1, 50, 200]), scenario('stream', [5, 50])], sides, (s, url, sc, c) => {
      runs.push(`${sc.name} ${url} c=${c} ${s.durationS}+${s.warmupS}s`);
      return Promise.resolve({ result: result(10) });
    });
    expect(runs).toEqual([
      'chat http://d c=1 4+0s',
      'chat http://b c=1 4+0s',
      'chat http://g c=1 4+0s',
      'chat http://o c=1 4+0s',
      'stream http://d c=1 4+0s',
      'stream http://b c=1 4+0s',
      'stream http://g c=1 4+0s',
      'stream http://o c=1 4+0s',
    ]);
  });

  it("reads the bare proxy's CPU over its runs as well as the gateways', and prints both per call", async () => {
    const sides: LoadSides = { direct: proc('d', 11), bare: proc('b', 12), gateway: proc('g', 13) };
    const asked: string[] = [];
    const rows = await loadRows(
      { durationS: 5, warmupS: 1, dir: '/nowhere' },
      [scenario('chat', [1])],
      sides,
      (...a) => {
        const [, url, , , pid] = a;
        asked.push(`${url} ${pid ?? '-'}`);
        // 1,000 calls a second at 10 % (bare) and 30 % (gateway) of a core: 100 and 300 µs per call.
        return Promise.resolve(
          pid === undefined ? { result: result(2000) } : { result: result(1000), cpuPct: pid === 12 ? 10 : 30 },
        );
      },
    );
    expect(asked).toEqual(['http://d -', 'http://b 12', 'http://g 13']);
    const [header, , line] = loadTable(rows);
    expect(header).toContain('| CPU µs per call: bare / gateway |');
    expect(line).toContain('| 100 / 300 |');
  });
});
