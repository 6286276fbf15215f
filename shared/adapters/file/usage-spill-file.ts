import { appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { UsageRecord } from '../../core/usage/usage-record.js';

/** The spill file's name: in the working directory, else (not writable, e.g. a read-only package) in the temp dir. */
export const USAGE_SPILL_FILE = 'gateway-usage-spill.ndjson';

/**
 * Appends usage records the ledger could not write before it closed (its storage unreachable) to a local
 * NDJSON file, the format of the file ledger (`npm run usage -- --file gateway-usage-spill.ndjson` reads
 * it), and answers the file's absolute path. Tries the working directory, then the temp directory; throws
 * only when neither can be written.
 *
 * @example
 * const path = await usageSpillFile(unwritten); // '/srv/gateway/gateway-usage-spill.ndjson'
 */
export async function usageSpillFile(
  records: readonly UsageRecord[],
  directories?: readonly string[],
): Promise<string> {
  const text = records.map((r) => `${JSON.stringify(r)}\n`).join('');
  let lastError: unknown;
  for (const directory of directories ?? [process.cwd(), tmpdir()]) {
    const path = resolve(join(directory, USAGE_SPILL_FILE));
    try {
      await appendFile(path, text, { encoding: 'utf8', mode: 0o600 });
      return path;
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}
