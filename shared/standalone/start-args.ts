import { parseArgs } from 'node:util';
import type { HostEnv } from '../config/host-config.js';
import { STATUS_EVERY_SECONDS } from './terminal-status.js';

/** What `npm start -- …` asked for. */
export interface StartArgs {
  /** `memory` (in-process stores) or `azurite` (Table and Blob adapters on `AzureWebJobsStorage`). */
  readonly storage: 'memory' | 'azurite';
  /**
   * The environment the host reads, with the flags applied: `--port` → `GATEWAY_SERVER__PORT`, `--host` →
   * `GATEWAY_SERVER__HOST`, `--config` → `GATEWAY_CONFIG_FILE`; `PORT` (the platform convention) becomes
   * `GATEWAY_SERVER__PORT` when neither that nor `--port` is set.
   */
  readonly env: HostEnv;
  /** This replica's name in the shared capacity ledger (`--instance-id`, `azurite` storage). */
  readonly instanceId?: string;
  /** Seconds between the terminal's status lines (`--status-every`; 0 = none; only on a TTY). */
  readonly statusEverySeconds: number;
}

/** The usage sentence printed with a bad argument. */
export const START_USAGE =
  'usage: npm start -- [--port <n>] [--host <address>] [--config <file>] [--storage memory|azurite] ' +
  '[--instance-id <name>] [--status-every <seconds>]';

/**
 * Reads the standalone host's command line. A flag wins over its environment variable, which wins over the
 * configuration file (the same overlay as any `GATEWAY_*` variable, so a reload keeps it). Answers one
 * sentence naming the bad argument instead of throwing.
 *
 * @example
 * const args = parseStartArgs(process.argv.slice(2), process.env); // --port 8302 → GATEWAY_SERVER__PORT=8302
 */
export function parseStartArgs(argv: readonly string[], env: HostEnv): StartArgs | { readonly problem: string } {
  let values: Record<string, string | undefined>;
  try {
    values = parseArgs({
      args: [...argv],
      options: {
        storage: { type: 'string', default: 'memory' },
        port: { type: 'string' },
        host: { type: 'string' },
        config: { type: 'string' },
        'instance-id': { type: 'string' },
        'status-every': { type: 'string' },
      },
      allowPositionals: false,
    }).values as Record<string, string | undefined>;
  } catch (error) {
    return { problem: (error as Error).message };
  }
  const storage = values.storage;
  if (storage !== 'memory' && storage !== 'azurite')
    return { problem: `--storage must be memory or azurite, not "${storage}"` };
  const out: Record<string, string | undefined> = { ...env };
  const port = values.port ?? (env.GATEWAY_SERVER__PORT === undefined ? env.PORT : undefined);
  if (port !== undefined) {
    const name = values.port !== undefined ? '--port' : 'PORT';
    if (!/^\d{1,5}$/.test(port) || Number(port) > 65_535)
      return { problem: `${name} must be a port number from 0 to 65535, not "${port}"` };
    out.GATEWAY_SERVER__PORT = port;
  }
  if (values.host !== undefined) {
    if (values.host.trim() === '') return { problem: '--host must name an address, e.g. 127.0.0.1 or 0.0.0.0' };
    out.GATEWAY_SERVER__HOST = values.host;
  }
  if (values.config !== undefined) out.GATEWAY_CONFIG_FILE = values.config;
  const every = values['status-every'] ?? String(STATUS_EVERY_SECONDS);
  if (!/^\d{1,4}$/.test(every)) return { problem: `--status-every must be a whole number of seconds, not "${every}"` };
  const instanceId = values['instance-id'];
  return { storage, env: out, statusEverySeconds: Number(every), ...(instanceId === undefined ? {} : { instanceId }) };
}
