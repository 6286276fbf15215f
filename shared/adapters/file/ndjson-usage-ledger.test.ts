import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../core/test-support/fake-clock.js';
import { createUsageRecord } from '../../core/usage/usage-record.js';
import { describeUsageLedgerContract } from '../../ports/usage-ledger.contract.js';
import { createNdjsonUsageLedger } from './ndjson-usage-ledger.js';

describeUsageLedgerContract('NdjsonUsageLedger', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'usage-ledger-'));
  const path = join(dir, 'nested', 'gateway.usage.ndjson');
  return {
    ledger: createNdjsonUsageLedger({ path, flushIntervalMs: 0, flushEveryRecords: 7 }),
    reopen: () => Promise.resolve(createNdjsonUsageLedger({ path, flushIntervalMs: 0 })),
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
});

describe('NdjsonUsageLedger', () => {
  const clock = new FakeClock(Date.UTC(2026, 10, 5));
  const rec = (id: string) => createUsageRecord({ requestId: id, httpStatus: 200, outcome: 'complete' }, clock);

  it('buffers appends and writes one line per record on flush', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'usage-ledger-'));
    try {
      const path = join(dir, 'u.ndjson');
      const ledger = createNdjsonUsageLedger({ path, flushIntervalMs: 0, flushEveryRecords: 1000 });
      await ledger.append(rec('a'));
      await ledger.append(rec('b'));
      expect(ledger.bufferedRecords).toBe(2);
      await ledger.flush();
      expect(ledger.bufferedRecords).toBe(0);
      const lines = (await readFile(path, 'utf8')).split('\n');
      expect(lines).toHaveLength(3);
      expect(lines[2]).toBe('');
      expect(JSON.parse(lines[0] ?? '')).toMatchObject({ schemaVersion: 1, requestId: 'a' });
      await ledger.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('skips a torn last line and foreign lines instead of failing the query', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'usage-ledger-'));
    try {
      const path = join(dir, 'u.ndjson');
      await writeFile(
        path,
        `${JSON.stringify(rec('ok'))}\n{"schemaVersion":99}\n${JSON.stringify(rec('torn')).slice(0, 40)}`,
      );
      const ledger = createNdjsonUsageLedger({ path, flushIntervalMs: 0 });
      const ids: string[] = [];
      for await (const r of ledger.query({ fromMs: 0, toMs: Number.MAX_SAFE_INTEGER })) ids.push(r.requestId);
      expect(ids).toEqual(['ok']);
      expect(ledger.skippedLines).toBe(2);
      await ledger.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('holds at most maxBufferedRecords by waiting for the write in flight', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'usage-ledger-'));
    try {
      const path = join(dir, 'u.ndjson');
      const ledger = createNdjsonUsageLedger({
        path,
        flushIntervalMs: 0,
        flushEveryRecords: 5,
        maxBufferedRecords: 10,
      });
      let peak = 0;
      await Promise.all(
        Array.from({ length: 200 }, async (_, i) => {
          await ledger.append(rec(`r${i}`));
          peak = Math.max(peak, ledger.bufferedRecords);
        }),
      );
      await ledger.close();
      expect(peak).toBeLessThanOrEqual(10);
      expect((await readFile(path, 'utf8')).trim().split('\n')).toHaveLength(200);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
