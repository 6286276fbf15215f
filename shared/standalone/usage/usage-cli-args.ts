import { parseArgs } from 'node:util';
import type { ChargebackDimension } from '../../core/usage/chargeback.js';
import { resolveUsageWindow, UsageWindowError, type UsageWindow } from '../../core/usage/usage-window.js';

export const DIMENSIONS: readonly ChargebackDimension[] = [
  'user',
  'tier',
  'model',
  'backend',
  'group',
  'profile',
  'app',
];
const FORMATS = ['table', 'csv', 'json'] as const;
const STORAGES = ['file', 'azurite', 'azure'] as const;

/** `npm run usage -- --help`. */
export const USAGE_HELP = `Usage: npm run usage -- [options]

Chargeback over the usage ledger: tokens (and costs, with usage.prices) grouped by one dimension.

  --from DATE|TIME   start, inclusive: a UTC date (2026-11-01 = its midnight UTC) or an ISO timestamp
                     (default: 24 hours before --to)
  --to DATE|TIME     end, exclusive, same formats (default: now). --from 2026-11-01 --to 2026-12-01 is
                     all of November (the same rule as the admin API's /usage)
  --by DIMENSION     ${DIMENSIONS.join(' | ')} (default: user)
  --user ID          only this user's records
  --format FORMAT    table (aligned, with a TOTAL line; default) | csv | json   (--json = --format json)
  --config FILE      gateway config for usage.prices, usage.currency and usage.ledger.path
                     (default: $GATEWAY_CONFIG_FILE, else gateway.config.json when it exists)
  --storage WHERE    file (default): the standalone host's NDJSON ledger
                     azurite: the Table ledger in AzureWebJobsStorage (default: local Azurite)
                     azure: the Table ledger of the deployment (AzureWebJobsStorage__accountName, identity)
  --file PATH        the NDJSON ledger (default: usage.ledger.path of the config, else gateway.usage.ndjson)
  --table NAME       the usage table (default: GatewayUsage)
  --help             this text

Exit codes: 0 done, 2 a bad argument or config, 1 the ledger could not be read.`;

/** What the command line asks for, validated. */
export interface UsageCliArgs {
  readonly window: UsageWindow;
  readonly by: ChargebackDimension;
  readonly user: string | undefined;
  readonly format: (typeof FORMATS)[number];
  readonly config: string | undefined;
  readonly storage: (typeof STORAGES)[number];
  readonly file: string | undefined;
  readonly table: string | undefined;
}

/** A command line that cannot run; `message` says which argument and what it accepts. */
export class UsageArgsError extends Error {}

function oneOf<T extends string>(name: string, value: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new UsageArgsError(`--${name} must be one of ${allowed.join(', ')}, not "${value}".`);
}

/**
 * Parses and checks the CLI's arguments; `help` when `--help` was given. Throws {@link UsageArgsError}
 * with one sentence naming the bad argument.
 */
export function parseUsageCliArgs(argv: readonly string[], nowMs: number): UsageCliArgs | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        from: { type: 'string' },
        to: { type: 'string' },
        by: { type: 'string', default: 'user' },
        user: { type: 'string' },
        format: { type: 'string' },
        json: { type: 'boolean', default: false },
        config: { type: 'string' },
        storage: { type: 'string', default: 'file' },
        file: { type: 'string' },
        table: { type: 'string' },
        help: { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UsageArgsError((error as Error).message);
  }
  if (values.help) return 'help';
  if (values.json && values.format !== undefined && values.format !== 'json')
    throw new UsageArgsError(`--json and --format ${values.format} contradict each other; give one.`);
  let window: UsageWindow;
  try {
    window = resolveUsageWindow({ from: values.from, to: values.to }, nowMs);
  } catch (error) {
    if (error instanceof UsageWindowError) throw new UsageArgsError(`--${error.message}`);
    throw error;
  }
  const storage = oneOf('storage', values.storage, STORAGES);
  if (values.file !== undefined && storage !== 'file')
    throw new UsageArgsError(`--file reads an NDJSON ledger; it cannot be combined with --storage ${storage}.`);
  if (values.table !== undefined && storage === 'file')
    throw new UsageArgsError('--table names the Table ledger: add --storage azurite or --storage azure.');
  return {
    window,
    by: oneOf('by', values.by, DIMENSIONS),
    user: values.user,
    format: values.json ? 'json' : oneOf('format', values.format ?? 'table', FORMATS),
    config: values.config,
    storage,
    file: values.file,
    table: values.table,
  };
}
