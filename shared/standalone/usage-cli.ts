import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { usageConfigSchema, type UsageConfig } from '../config/usage-schema.js';
import { systemClock } from '../core/clock.js';
import { createUsageAggregator, type ChargebackRow } from '../core/usage/chargeback.js';
import { renderChargebackCsv, renderChargebackTable } from '../core/usage/chargeback-table.js';
import { parseUsageCliArgs, USAGE_HELP, UsageArgsError, type UsageCliArgs } from './usage/usage-cli-args.js';
import { describeReadFailure, openUsageSource, UsageSourceError } from './usage/usage-source.js';

/** Where the CLI writes, and what it reads from its environment. */
export interface UsageCliIo {
  out(text: string): void;
  err(text: string): void;
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly nowMs?: number;
}

const HINT = 'Run `npm run usage -- --help` for every option.';

/**
 * The chargeback CLI (`npm run usage`): reads the usage ledger (the NDJSON file, or the Table ledger on
 * Azurite or Azure), aggregates a time range by one dimension and prints an aligned table with totals, CSV or
 * JSON. Returns the process exit code: 0 done, 2 a bad argument or config (one sentence naming it), 1 the
 * ledger could not be read.
 *
 * @example
 * const args = ['--from', '2026-11-01', '--to', '2026-12-01', '--by', 'model'];
 * await runUsageCli(args, { out: console.log, err: console.error });
 */
export async function runUsageCli(argv: readonly string[], io: UsageCliIo): Promise<number> {
  const env = io.env ?? {};
  let args: UsageCliArgs;
  let usage: UsageConfig;
  try {
    const parsed = parseUsageCliArgs(argv, io.nowMs ?? systemClock.now());
    if (parsed === 'help') {
      io.out(USAGE_HELP);
      return 0;
    }
    args = parsed;
    usage = await readUsageConfig(args.config ?? defaultConfigFile(env), args.config !== undefined);
  } catch (error) {
    if (!(error instanceof UsageArgsError)) throw error;
    io.err(`npm run usage: ${error.message}\n${HINT}`);
    return 2;
  }
  let source;
  try {
    source = await openUsageSource(args, usage.ledger.path, env);
  } catch (error) {
    if (!(error instanceof UsageSourceError)) throw error;
    io.err(`npm run usage: ${error.message}`);
    return 1;
  }
  const priced = Object.keys(usage.prices).length > 0;
  const agg = createUsageAggregator({ by: args.by, prices: priced ? usage.prices : undefined });
  try {
    for await (const record of source.ledger.query({ ...args.window, userId: args.user })) agg.add(record);
  } catch (error) {
    io.err(`npm run usage: ${describeReadFailure(source, error)}`);
    return 1;
  } finally {
    await source.ledger.close().catch(() => undefined);
  }
  print(io, args, agg.rows(), usage.currency, source.description);
  if (source.skipped() > 0) io.err(`${source.skipped()} unreadable record(s) skipped.`);
  return 0;
}

function print(io: UsageCliIo, args: UsageCliArgs, rows: ChargebackRow[], currency: string, from: string): void {
  const window = { from: new Date(args.window.fromMs).toISOString(), to: new Date(args.window.toMs).toISOString() };
  if (args.format === 'json') io.out(JSON.stringify({ ...window, by: args.by, currency, rows }, null, 2));
  else if (args.format === 'csv') io.out(renderChargebackCsv(rows, args.by, { currency }).trimEnd());
  else {
    io.out(`Usage ${window.from} .. ${window.to} (to exclusive) by ${args.by}, from ${from}`);
    io.out(renderChargebackTable(rows, args.by, { currency }));
  }
}

function defaultConfigFile(env: Readonly<Record<string, string | undefined>>): string | undefined {
  const file = env['GATEWAY_CONFIG_FILE'] ?? 'gateway.config.json';
  return existsSync(file) ? file : undefined;
}

/** The `usage` section of a gateway config file (defaults without one). */
async function readUsageConfig(file: string | undefined, named: boolean): Promise<UsageConfig> {
  if (file === undefined) return usageConfigSchema.parse({});
  let raw: { usage?: unknown };
  try {
    raw = JSON.parse(await readFile(file, 'utf8')) as { usage?: unknown };
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'it does not exist' : (error as Error).message;
    throw new UsageArgsError(`${named ? '--config' : 'the config'} ${file} cannot be read: ${why}.`);
  }
  const parsed = usageConfigSchema.safeParse(raw.usage ?? {});
  if (!parsed.success)
    throw new UsageArgsError(
      `the usage section of ${file} is ` +
        `invalid:\n${parsed.error.issues.map((i) => `  usage.${i.path.join('.')}: ${i.message}`).join('\n')}`,
    );
  return parsed.data;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runUsageCli(process.argv.slice(2), {
    out: (t) => console.log(t),
    err: (t) => console.error(t),
    env: process.env,
  }).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(`npm run usage: ${error instanceof Error ? error.message : String(error)}`);
      process.exitCode = 1;
    },
  );
}
