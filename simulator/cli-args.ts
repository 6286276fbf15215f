import type { SimulatorOptions } from './simulator.js';

/** What the command line asked for. */
export type CliCommand = { readonly kind: 'run'; readonly options: SimulatorOptions } | { readonly kind: 'help' };

/** Usage text of `node dist/simulator/main.js`. */
export const USAGE = `Usage: node dist/simulator/main.js [options]   (or: npm run simulator -- [options])
  --port <n>               port to listen on (default 0 = any free port)
  --host <addr>            address to bind (default 127.0.0.1)
  --name <text>            instance name, sent as x-sim-instance (default sim)
  --latency-ms <n>         delay before response headers
  --first-token-ms <n>     delay between headers and the first streamed token
  --tps <n>                streamed tokens per second (default: back-to-back)
  --completion-tokens <n>  completion tokens per answer (default 16)
  --dims <n>               embedding dimension (default 8)
  --served-model <name>    report this model instead of the requested one
  --api-key <key>          require this key (api-key, Bearer, x-api-key, x-goog-api-key, ?key=)
  --fault <spec>           an instance fault rule, repeatable (see docs/simulator.md)
  --no-record              do not keep the attempts log (benchmarks)
  --continue-prefill       continue a final assistant message instead of answering anew
  --help                   this text`;

const NUMERIC: Readonly<Record<string, keyof SimulatorOptions>> = {
  '--port': 'port',
  '--latency-ms': 'latencyMs',
  '--first-token-ms': 'firstTokenDelayMs',
  '--tps': 'tokensPerSecond',
  '--tokens-per-second': 'tokensPerSecond',
  '--completion-tokens': 'defaultCompletionTokens',
  '--dims': 'embeddingDimensions',
};

const TEXT: Readonly<Record<string, keyof SimulatorOptions>> = {
  '--host': 'host',
  '--name': 'name',
  '--served-model': 'servedModel',
  '--api-key': 'apiKey',
};

/**
 * Parses the simulator's command line (`--key value` or `--key=value`).
 *
 * @throws {Error} naming the bad flag.
 * @example
 * parseCliArgs(['--port', '9001', '--fault', '503;times=2']);
 * // → { kind: 'run', options: { port: 9001, faults: ['503;times=2'] } }
 */
export function parseCliArgs(argv: readonly string[]): CliCommand {
  const options: Record<string, unknown> = {};
  const faults: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = eq < 0 ? arg : arg.slice(0, eq);
    if (flag === '--help' || flag === '-h') return { kind: 'help' };
    if (flag === '--no-record') {
      options.recordAttempts = false;
      continue;
    }
    if (flag === '--continue-prefill') {
      options.continuePrefill = true;
      continue;
    }
    const numeric = NUMERIC[flag];
    const text = TEXT[flag];
    if (!numeric && !text && flag !== '--fault') throw new Error(`unknown option ${flag}`);
    let value: string | undefined;
    if (eq >= 0) value = arg.slice(eq + 1);
    else {
      value = argv[i + 1];
      i++;
    }
    if (value === undefined || value === '') throw new Error(`${flag} needs a value`);
    if (flag === '--fault') faults.push(value);
    else if (numeric) {
      const n = Number(value);
      if (!Number.isFinite(n) || n < 0) throw new Error(`${flag}: expected a non-negative number, got ${value}`);
      options[numeric] = n;
    } else if (text) options[text] = value;
  }
  if (faults.length > 0) options.faults = faults;
  return { kind: 'run', options: options as SimulatorOptions };
}
