/**
 * The `GATEWAY_<SECTION>__<KEY>` environment overlay and the merge of an overlay onto a configuration. Kept
 * apart from the schema (and zod) so that a host can read its settings and describe its source without
 * loading the validator into the serving process (ADR 0050).
 */

/**
 * The top-level sections a `GATEWAY_<SECTION>__…` variable may name: the keys of `gatewaySchema`
 * (`env-overlay.test.ts` holds the two lists equal).
 */
export const CONFIG_SECTIONS: ReadonlySet<string> = new Set([
  'server',
  'limits',
  'headers',
  'backends',
  'pools',
  'routes',
  'affinity',
  'resilience',
  'scheduling',
  'governance',
  'usage',
  'async',
]);

/** The configuration variables of an environment (name, config path, raw value); others go to `onIgnored`. */
export function* envVariables(
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
 * The part of an environment the overlay reads: the `GATEWAY_*` variables {@link envOverlay} takes, others left
 * out silently (they were reported when the overlay was first read). Used to hand the environment to a
 * validation process without repeating the warnings there.
 */
export function configEnv(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const { name, value } of envVariables(env, () => undefined)) out[name] = value;
  return out;
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
