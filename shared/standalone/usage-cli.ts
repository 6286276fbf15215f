import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { createNdjsonUsageLedger } from '../adapters/file/ndjson-usage-ledger.js';
import { usageConfigSchema } from '../config/usage-schema.js';
import { createUsageAggregator, type ChargebackDimension, type ChargebackRow } from '../core/usage/chargeback.js';
import { renderChargebackTable } from '../core/usage/chargeback-table.js';

const DIMENSIONS: readonly ChargebackDimension[] = ['user', 'tier', 'model', 'backend', 'group', 'profile', 'app'];
const DAY_MS = 86_400_000;

const USAGE = `Usage: npm run usage -- --from YYYY-MM-DD --to YYYY-MM-DD [--by user|tier|model|backend|group|profile|app]
                           [--file gateway.usage.ndjson] [--config gateway.config.json] [--user ID] [--json]
  --from / --to   UTC dates, both inclusive (or full ISO timestamps: --to is then exclusive)
  --by            grouping (default user)
  --file          NDJSON ledger (default: usage.ledger.path of the config, else gateway.usage.ndjson)
  --config        gateway config whose usage.prices give costs
  --json          print the rows as JSON`;

function parseBound(text: string, end: boolean): number {
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(text);
  const ms = Date.parse(dateOnly ? `${text}T00:00:00Z` : text);
  if (!Number.isFinite(ms)) throw new Error(`Not a date: ${text}`);
  return end && dateOnly ? ms + DAY_MS : ms;
}

/**
 * The chargeback CLI: reads an NDJSON usage ledger, aggregates a time range, prints a table or JSON.
 * Returns the process exit code.
 *
 * @example
 * await runUsageCli(['--from', '2026-11-01', '--to', '2026-11-30', '--by', 'user'], { out: console.log, err: console.error });
 */
export async function runUsageCli(
  argv: readonly string[],
  io: { out: (text: string) => void; err: (text: string) => void },
): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        from: { type: 'string' },
        to: { type: 'string' },
        by: { type: 'string', default: 'user' },
        file: { type: 'string' },
        config: { type: 'string' },
        user: { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
      strict: true,
    }));
  } catch (error) {
    io.err(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    io.out(USAGE);
    return 0;
  }
  const by = values.by as ChargebackDimension;
  if (values.from === undefined || values.to === undefined || !DIMENSIONS.includes(by)) {
    io.err(USAGE);
    return 2;
  }
  let fromMs: number;
  let toMs: number;
  try {
    fromMs = parseBound(values.from, false);
    toMs = parseBound(values.to, true);
  } catch (error) {
    io.err((error as Error).message);
    return 2;
  }
  let config = usageConfigSchema.parse({});
  if (values.config !== undefined) {
    const raw = JSON.parse(await readFile(values.config, 'utf8')) as { usage?: unknown };
    const parsed = usageConfigSchema.safeParse(raw.usage ?? {});
    if (!parsed.success) {
      io.err(
        `Invalid usage config in ${values.config}:\n${parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n')}`,
      );
      return 2;
    }
    config = parsed.data;
  }
  const path = values.file ?? config.ledger.path;
  const ledger = createNdjsonUsageLedger({ path, flushIntervalMs: 0 });
  const priced = Object.keys(config.prices).length > 0;
  const agg = createUsageAggregator({ by, prices: priced ? config.prices : undefined });
  for await (const record of ledger.query({ fromMs, toMs, userId: values.user })) agg.add(record);
  await ledger.close();
  const rows: ChargebackRow[] = agg.rows();
  if (values.json) {
    io.out(
      JSON.stringify({ from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString(), by, rows }, null, 2),
    );
  } else {
    io.out(`Usage ${new Date(fromMs).toISOString()} .. ${new Date(toMs).toISOString()} by ${by} (${path})`);
    io.out(renderChargebackTable(rows, by));
    if (ledger.skippedLines > 0) io.err(`${ledger.skippedLines} unreadable line(s) skipped.`);
  }
  return 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runUsageCli(process.argv.slice(2), { out: (t) => console.log(t), err: (t) => console.error(t) }).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exitCode = 1;
    },
  );
}
