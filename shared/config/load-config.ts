import { readFileSync, existsSync } from 'node:fs';
import { gatewaySchema, type GatewayConfig } from './gateway-schema.js';
import { knownKeysAt, unknownKeyMessage } from './unknown-keys.js';
import { envOverlay, envVariables, mergeConfig } from './env-overlay.js';

export { envOverlay, mergeConfig };

/** The result of validating a configuration: the frozen config, or every problem found. */
export type ConfigResult = { ok: true; config: GatewayConfig } | { ok: false; issues: string[] };

/** Options of {@link validateConfig}. */
export interface ValidateOptions {
  /**
   * The environment whose `GATEWAY_*` overlay is part of `raw`: a problem in a value a variable set
   * names that variable, so that nobody searches the file for it.
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/**
 * Validates a raw configuration object: applies defaults, checks every field and every
 * cross-reference, and returns either a deep-frozen config or the full list of problems, each as
 * `path: message`. An unknown key gets a "did you mean" (or the keys accepted there).
 *
 * @example
 * const result = validateConfig(JSON.parse(text));
 * if (!result.ok) throw new Error(result.issues.join('\n'));
 */
export function validateConfig(raw: unknown, options: ValidateOptions = {}): ConfigResult {
  const parsed = gatewaySchema.safeParse(raw);
  if (parsed.success) return { ok: true, config: deepFreeze(parsed.data) };
  const variables = options.env === undefined ? [] : [...envVariables(options.env, () => undefined)];
  const issues: string[] = [];
  for (const issue of parsed.error.issues) {
    const found =
      issue.code === 'unrecognized_keys'
        ? issue.keys.map((key) => ({
            path: [...issue.path, key],
            message: unknownKeyMessage(key, knownKeysAt(gatewaySchema, raw, issue.path)),
          }))
        : [{ path: issue.path, message: issue.message }];
    for (const { path, message } of found) {
      const from = variables.find((v) => v.path.every((key, i) => String(path[i]) === key));
      const where = path.length > 0 ? path.map(String).join('.') : '(root)';
      issues.push(`${where}: ${message}${from === undefined ? '' : ` (set by ${from.name})`}`);
    }
  }
  return { ok: false, issues };
}

/**
 * Loads the configuration for a host: the JSON file (when present), then the environment overlay,
 * validated together. `defaults` supplies what a host embeds when no file exists.
 */
export function loadConfig(options: {
  file?: string;
  env?: Readonly<Record<string, string | undefined>>;
  defaults?: Record<string, unknown>;
}): ConfigResult & { source: string } {
  const env = options.env ?? {};
  const file = options.file ?? env.GATEWAY_CONFIG_FILE ?? 'gateway.config.json';
  let base: Record<string, unknown> = options.defaults ?? {};
  let source = 'embedded defaults';
  if (existsSync(file)) {
    try {
      base = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
      source = file;
    } catch (error) {
      return { ok: false, issues: [`${file}: ${(error as Error).message}`], source: file };
    }
  } else if (options.file !== undefined || env.GATEWAY_CONFIG_FILE !== undefined) {
    return { ok: false, issues: [`${file}: file not found`], source: file };
  }
  const overlay = envOverlay(env);
  if (Object.keys(overlay).length > 0) source += ' + GATEWAY_* environment';
  return { ...validateConfig(mergeConfig(base, overlay), { env }), source };
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
