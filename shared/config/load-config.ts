import { readFileSync, existsSync } from 'node:fs';
import { gatewaySchema, type GatewayConfig } from './gateway-schema.js';
import { knownKeysAt, unknownKeyMessage } from './unknown-keys.js';

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

/** The configuration variables of an environment (name, config path, raw value); others go to `onIgnored`. */
function* envVariables(
  env: Readonly<Record<string, string | undefined>>,
  onIgnored: (name: string, reason: string) => void,
): Generator<{ name: string; path: string[]; value: string }> {
  for (const [name, value] of Object.entries(env)) {
    // GATEWAY_FUNCTIONS__* are the Functions host's own settings, not configuration sections.
    if (!name.startsWith('GATEWAY_') || value === undefined || HOST_SETTINGS.test(name)) continue;
    const path = name.slice('GATEWAY_'.length).split('__').map(camelCase);
    if (!CONFIG_SECTIONS.has(path[0]!)) {
      onIgnored(name, `not a configuration section (sections: ${[...CONFIG_SECTIONS].join(', ')})`);
      continue;
    }
    if (path.some((p) => p === '')) {
      onIgnored(name, 'an empty part between "__" separators');
      continue;
    }
    yield { name, path, value };
  }
}

/**
 * Reads `GATEWAY_<SECTION>__<KEY>` environment variables into a config overlay. `SECTION` and each
 * `KEY` are SNAKE_CASE and become camelCase; further `__` nest deeper. Values are parsed as JSON when
 * they parse (numbers, booleans, arrays, objects), else taken as strings.
 *
 * Only names whose first part is a configuration section (`server`, `limits`, `governance`, …) are read:
 * another tool's `GATEWAY_URL` or `GATEWAY_TOKEN` is reported to `onIgnored` (default: a process warning,
 * once per name) and left out, so it cannot stop the gateway. An unknown key *under* a section is kept,
 * and validation refuses it — a typo never passes silently.
 *
 * @example
 * envOverlay({ GATEWAY_SERVER__PORT: '9000', GATEWAY_URL: 'https://x' }) // → { server: { port: 9000 } }
 */
export function envOverlay(
  env: Readonly<Record<string, string | undefined>>,
  onIgnored: (name: string, reason: string) => void = warnOnce,
): Record<string, unknown> {
  const overlay: Record<string, unknown> = {};
  for (const { path, value } of envVariables(env, onIgnored)) {
    let target = overlay;
    for (const key of path.slice(0, -1)) {
      const next = target[key];
      target = (typeof next === 'object' && next !== null ? next : (target[key] = {})) as Record<string, unknown>;
    }
    target[path[path.length - 1]!] = parseValue(value);
  }
  return overlay;
}

/** The top-level sections a `GATEWAY_<SECTION>__…` variable may name. */
const CONFIG_SECTIONS: ReadonlySet<string> = new Set(Object.keys(gatewaySchema.shape));
/** Variables that configure a host rather than the gateway. */
const HOST_SETTINGS = /^GATEWAY_(CONFIG_FILE$|FUNCTIONS__)/;
const warned = new Set<string>();

function warnOnce(name: string, reason: string): void {
  if (warned.has(name)) return;
  warned.add(name);
  process.emitWarning(`${name} is ignored: ${reason}.`, { code: 'GATEWAY_ENV_IGNORED' });
}

/** Deep-merges `overlay` onto `base` (objects merge, everything else replaces). */
export function mergeConfig(base: Record<string, unknown>, overlay: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(overlay)) {
    const current = out[key];
    out[key] = isPlainObject(current) && isPlainObject(value) ? mergeConfig(current, value) : value;
  }
  return out;
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

function camelCase(snake: string): string {
  return snake.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function parseValue(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
