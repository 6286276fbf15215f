import { createReadStream } from 'node:fs';
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { createBufferedBatchWriter } from '../buffered-batch-writer.js';
import { dirname } from 'node:path';
import { LineSplitter } from '../../core/usage/line-splitter.js';
import { parseUsageRecord, type UsageRecord } from '../../core/usage/usage-record.js';
import type { UsageLedger, UsageQuery } from '../../ports/usage-ledger.js';

/** Options of {@link createNdjsonUsageLedger}. */
export interface NdjsonUsageLedgerOptions {
  /** The NDJSON file (created with its directory on first write). */
  path: string;
  /** Buffered records that trigger a background write (default 100). */
  flushEveryRecords?: number;
  /** Hard bound on buffered records; past it `append` waits for the write in flight (default 10,000). */
  maxBufferedRecords?: number;
  /** Background write interval in ms so quiet periods still reach the file (default 1,000; 0 = none). */
  flushIntervalMs?: number;
  /** Receives background write errors (the records stay buffered and are retried on the next flush). */
  onError?: (error: unknown) => void;
}

/** The NDJSON ledger, with its counters. */
export interface NdjsonUsageLedger extends UsageLedger {
  /** Records accepted but not yet written. */
  readonly bufferedRecords: number;
  /** Lines skipped by queries because they were not valid records (e.g. a torn last line after a crash). */
  readonly skippedLines: number;
}

/**
 * An append-only NDJSON {@link UsageLedger}: one {@link UsageRecord} per line, UTF-8, LF. Writes are
 * buffered and appended in batches; `query` flushes, then streams the file line by line (memory bounded by
 * one line), so a month of records is never loaded at once. Lines that do not parse as a version-1 record
 * are skipped and counted, so a torn final line after a crash does not break chargeback.
 *
 * @example
 * const ledger = createNdjsonUsageLedger({ path: 'gateway.usage.ndjson' });
 * void ledger.append(record);
 * await ledger.close();
 */
export function createNdjsonUsageLedger(options: NdjsonUsageLedgerOptions): NdjsonUsageLedger {
  let closed = false;
  let skipped = 0;
  const file = appendFile(options.path);
  const writer = createBufferedBatchWriter<string>({
    flushEvery: options.flushEveryRecords,
    maxBuffered: options.maxBufferedRecords,
    intervalMs: options.flushIntervalMs,
    onError: options.onError,
    write: async (lines) => {
      await file.write(lines.join(''));
      return [];
    },
  });
  const flush = (): Promise<void> => writer.flush();

  return {
    get bufferedRecords() {
      return writer.buffered;
    },
    get skippedLines() {
      return skipped;
    },
    // No async frame of its own (one per call): the writer's promise, or a rejection, is the answer.
    append(record) {
      if (closed) return Promise.reject(new Error('The usage ledger is closed.'));
      let line: string;
      try {
        line = `${JSON.stringify(record)}
`;
      } catch (error) {
        return Promise.reject(error);
      }
      return writer.add(line);
    },
    async *query(query: UsageQuery) {
      await flush();
      yield* readMatching(options.path, query, () => skipped++);
    },
    flush,
    async close() {
      if (closed) return;
      closed = true;
      await writer.close();
      await file.close();
    },
  };
}

/** The ledger file, opened for appending on first write. */
interface AppendFile {
  write(text: string): Promise<void>;
  close(): Promise<void>;
}

function appendFile(path: string): AppendFile {
  // One append-mode handle for the ledger's life: opening and closing the file per batch cost more
  // than writing it. Reopened after a failed write (the file may have been moved by log rotation).
  let handle: FileHandle | undefined;
  return {
    async write(text) {
      try {
        if (handle === undefined) {
          await mkdir(dirname(path), { recursive: true });
          handle = await open(path, 'a');
        }
        await handle.write(text, null, 'utf8');
      } catch (error) {
        const broken = handle;
        handle = undefined;
        await broken?.close().catch(() => undefined);
        throw error;
      }
    },
    async close() {
      const last = handle;
      handle = undefined;
      await last?.close();
    },
  };
}

/** Streams the records of `path` that match `query`; a missing file has none. */
async function* readMatching(path: string, query: UsageQuery, onSkipped: () => void): AsyncGenerator<UsageRecord> {
  const lines: UsageRecord[] = [];
  const splitter = new LineSplitter((line) => {
    if (line.length === 0) return;
    const r = parseLine(line);
    if (r === undefined) return onSkipped();
    if (r.timestampMs < query.fromMs || r.timestampMs >= query.toMs) return;
    if (query.userId !== undefined && r.caller.userId !== query.userId) return;
    lines.push(r);
  });
  const stream = createReadStream(path);
  try {
    for await (const chunk of stream as AsyncIterable<Uint8Array>) {
      splitter.push(chunk);
      yield* lines.splice(0);
    }
    splitter.end();
    yield* lines.splice(0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  } finally {
    stream.destroy();
  }
}

/** One line as a usage record, or `undefined` when it is not valid JSON or not a version-1 record. */
function parseLine(line: Uint8Array): UsageRecord | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(line));
  } catch {
    return undefined;
  }
  return parseUsageRecord(parsed);
}
