import { existsSync } from 'node:fs';
import type { ConfigSource } from '../ports/config-source.js';
import type { Telemetry } from '../ports/telemetry.js';
import { createConfigStore, type ConfigReloadEvent } from './config-store.js';
import type { GatewayConfig } from './gateway-schema.js';
import { envOverlay } from './env-overlay.js';
import { validateInProcess, type HostValidator } from './host-validators.js';

/** The environment a host reads `GATEWAY_*` settings from. */
export type HostEnv = Readonly<Record<string, string | undefined>>;

/** The configuration a host serves: the snapshot in force, following reloads once watched. */
export interface HostConfig {
  /** Names where it came from, for logs: the source, and `+ GATEWAY_* environment` when settings apply. */
  readonly source: string;
  /** The frozen snapshot in force; a reload swaps it atomically. */
  current(): GatewayConfig;
  /** Reloads whenever the source reports a change (a fixed source never does); returns a function that stops. */
  watch(): () => void;
  /**
   * Reports every later reload — applied, or refused with its problems while the last good configuration
   * stays — as the `ConfigReload` telemetry event, as a line to `log` when given, and to `onReload` (the
   * runtime's status board) when given.
   */
  report(
    telemetry: Pick<Telemetry, 'event'>,
    log?: (line: string) => void,
    onReload?: (event: ConfigReloadEvent) => void,
  ): void;
}

/** The outcome of {@link openHostConfig}: the configuration, or every problem that refused it. */
export type HostConfigResult =
  | { readonly ok: true; readonly config: HostConfig }
  | { readonly ok: false; readonly source: string; readonly issues: readonly string[] };

/**
 * The configuration file a host reads: `GATEWAY_CONFIG_FILE` when set (it must then exist), else
 * `gateway.config.json` when it exists; `undefined` when there is none.
 */
export function configFileOf(env: HostEnv): string | undefined {
  if (env.GATEWAY_CONFIG_FILE !== undefined) return env.GATEWAY_CONFIG_FILE;
  return existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined;
}

/** A {@link ConfigSource} of one raw configuration that never changes (a host's embedded defaults). */
export function fixedConfigSource(name: string, raw: unknown): ConfigSource {
  return { name, load: async () => raw, watch: () => () => undefined };
}

/**
 * The host configuration pipeline, the same for the standalone host and the Functions app: load the
 * source, validate it with `validateHostConfig` (in this thread by default; the standalone host passes
 * `validateInChildProcess`, ADRs 0050 and 0087), and keep it in a config store whose reloads go through the same
 * validation and are reported in one place ({@link HostConfig.report}).
 *
 * @example
 * const opened = await openHostConfig(createJsonFileConfigSource({ file }), process.env);
 * if (!opened.ok) throw new Error(opened.issues.join('\n'));
 * const runtime = createRuntime({ config: opened.config.current, env: process.env });
 * opened.config.report(runtime.telemetry);
 * opened.config.watch();
 */
export async function openHostConfig(
  source: ConfigSource,
  env: HostEnv,
  validate: HostValidator = validateInProcess,
): Promise<HostConfigResult> {
  let listener: ((event: ConfigReloadEvent) => void) | undefined;
  const store = createConfigStore({
    source,
    validate: (raw) => validate(raw, env),
    onReload: (event) => listener?.(event),
  });
  const described = Object.keys(envOverlay(env)).length > 0 ? `${source.name} + GATEWAY_* environment` : source.name;
  const first = await store.reload();
  if (!first.ok) return { ok: false, source: described, issues: first.issues ?? [] };
  return {
    ok: true,
    config: {
      source: described,
      current: () => store.current(),
      watch: () => store.watch(),
      report(telemetry, log, onReload) {
        listener = (event) => {
          telemetry.event('ConfigReload', { ok: event.ok, source: event.source, issues: event.issues?.join('; ') });
          onReload?.(event);
          log?.(reloadLine(event));
        };
      },
    },
  };
}

const DEFAULT_CONFIG_FILE = 'gateway.config.json';

function reloadLine(event: ConfigReloadEvent): string {
  if (event.ok) return `gateway: configuration reloaded from ${event.source}`;
  const issues = (event.issues ?? []).map((i) => `  - ${i}`).join('\n');
  return `gateway: configuration reload from ${event.source} refused, the last good configuration stays:\n${issues}`;
}
