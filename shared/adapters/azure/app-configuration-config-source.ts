import type { AppConfigurationClient, ConfigurationSetting } from '@azure/app-configuration';
import type { ConfigSource } from '../../ports/config-source.js';
import { statusOf } from './azure-errors.js';

/** The part of `AppConfigurationClient` the source uses. */
export type AppConfigurationReader = Pick<
  AppConfigurationClient,
  'listConfigurationSettings' | 'getConfigurationSetting'
>;

/** Dependencies of {@link createAppConfigurationConfigSource}. */
export interface AppConfigurationConfigSourceDeps {
  readonly client: AppConfigurationReader;
}

/** Options of {@link createAppConfigurationConfigSource}. */
export interface AppConfigurationConfigSourceOptions {
  /** The store's endpoint, for the source's name in reload events (no secrets). */
  readonly endpoint: string;
  /** Every key of the gateway starts with this (default `gateway:`). */
  readonly keyPrefix?: string;
  /** The label to read (default: no label). Use one label per environment, e.g. `prod`. */
  readonly label?: string;
  /** The key whose change triggers a reload (default `{keyPrefix}sentinel`); never part of the config. */
  readonly sentinelKey?: string;
  /** How often the sentinel is polled (default 30,000 ms). */
  readonly pollIntervalMs?: number;
  /** Receives polling errors (a failed poll is retried at the next interval). */
  readonly onError?: (error: unknown) => void;
}

/** The App Configuration source, with a way to poll the sentinel now. */
export interface AppConfigurationConfigSource extends ConfigSource {
  /** Reads the sentinel once; calls the watchers and answers true when it changed since last seen. */
  checkNow(): Promise<boolean>;
}

const NO_LABEL = '\0';
const KEY_VAULT_REFERENCE = 'application/vnd.microsoft.appconfig.keyvaultref+json';

/**
 * Creates the Azure App Configuration {@link ConfigSource}.
 *
 * Key layout (docs/azure-adapters.md): every key under `keyPrefix` with the configured label is one
 * part of the raw config object; the rest of the key, split at `:`, is its path, and the value is JSON
 * (content type `application/json` recommended; empty or `…json…` content types are read as JSON).
 * `gateway:routes` = `[...]` sets `raw.routes`; `gateway:server:port` = `8080` sets `raw.server.port`.
 * A value that is not JSON, a Key Vault reference, or two keys that claim the same path fail the load,
 * naming the key — the config store then keeps the last good configuration.
 *
 * Reload: `watch` polls the sentinel key every `pollIntervalMs`; when its ETag changes (or it appears
 * or disappears) the watchers are called and the config store reloads everything through its
 * validate-and-swap path. Update the sentinel last, after every other key of a change.
 *
 * @example
 * const source = createAppConfigurationConfigSource(
 *   { client: clients.appConfigurationClient() },
 *   { endpoint, label: 'prod' },
 * );
 * const store = createConfigStore({ source, validate: validateConfig });
 * await store.reload();
 * const stop = store.watch();
 */
export function createAppConfigurationConfigSource(
  deps: AppConfigurationConfigSourceDeps,
  options: AppConfigurationConfigSourceOptions,
): AppConfigurationConfigSource {
  const prefix = options.keyPrefix ?? 'gateway:';
  const label = options.label ?? NO_LABEL;
  const sentinelKey = options.sentinelKey ?? `${prefix}sentinel`;
  const pollIntervalMs = options.pollIntervalMs ?? 30_000;
  const listeners = new Set<() => void>();
  /** The sentinel ETag last seen (null: absent); undefined until first read. */
  let lastSentinel: string | null | undefined;
  let polling: Promise<boolean> | undefined;
  let timer: ReturnType<typeof setInterval> | undefined;

  const readSentinel = (): Promise<string | null> => sentinelOf(deps.client, sentinelKey, label);

  const poll = async (): Promise<boolean> => {
    const current = await readSentinel();
    const before = lastSentinel;
    lastSentinel = current;
    if (before === undefined || before === current) return false;
    for (const listener of [...listeners]) {
      try {
        listener();
      } catch (error) {
        options.onError?.(error);
      }
    }
    return true;
  };

  const checkNow = (): Promise<boolean> => {
    polling ??= poll().finally(() => {
      polling = undefined;
    });
    return polling;
  };

  return {
    name: `${options.endpoint} (${prefix}*, label ${label === NO_LABEL ? '(none)' : label})`,

    async load() {
      // Sentinel first: a change made while the keys are read moves the sentinel after this read, so
      // the next poll sees it and reloads again (never a missed change).
      lastSentinel = await readSentinel();
      return settingsUnder(deps.client, prefix, label, sentinelKey);
    },

    watch(onChange) {
      listeners.add(onChange);
      if (timer === undefined) {
        timer = setInterval(() => {
          checkNow().catch((error: unknown) => options.onError?.(error));
        }, pollIntervalMs);
        timer.unref();
      }
      return () => {
        listeners.delete(onChange);
        if (listeners.size === 0 && timer !== undefined) {
          clearInterval(timer);
          timer = undefined;
        }
      };
    },

    checkNow,
  };
}

function parseValue(setting: ConfigurationSetting): unknown {
  const contentType = setting.contentType?.toLowerCase() ?? '';
  if (contentType.startsWith(KEY_VAULT_REFERENCE)) {
    throw new Error(
      `${setting.key}: Key Vault references are not resolved by the gateway; give secrets ` +
        `as { "env": "NAME" } and set the app setting (a Key Vault reference there works).`,
    );
  }
  if (contentType !== '' && !contentType.includes('json'))
    throw new Error(`${setting.key}: content type "${setting.contentType}" is not JSON`);
  try {
    return JSON.parse(setting.value ?? '');
  } catch (error) {
    throw new Error(`${setting.key}: value is not valid JSON (${(error as Error).message})`);
  }
}

function assign(
  target: Record<string, unknown>,
  path: readonly string[],
  value: unknown,
  key: string,
  claimed: Set<string>,
): void {
  const full = path.join(':');
  for (let i = 1; i <= path.length; i++) {
    const prefix = path.slice(0, i).join(':');
    if (claimed.has(prefix) || (i === path.length && [...claimed].some((c) => c.startsWith(`${full}:`)))) {
      throw new Error(`${key}: overlaps another key that sets "${claimed.has(prefix) ? prefix : full}"`);
    }
  }
  claimed.add(full);
  let node = target;
  for (const segment of path.slice(0, -1)) {
    const next = node[segment];
    if (next === undefined) node = node[segment] = {} as Record<string, unknown>;
    else node = next as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}

/** The sentinel's ETag (its value when the service gives none), null when it does not exist. */
async function sentinelOf(
  client: AppConfigurationConfigSourceDeps['client'],
  key: string,
  label: string,
): Promise<string | null> {
  try {
    const setting = await client.getConfigurationSetting({ key, label: label === NO_LABEL ? undefined : label });
    return setting.etag ?? setting.value ?? '';
  } catch (error) {
    if (statusOf(error) === 404) return null;
    throw error;
  }
}

/** The settings under `prefix` with `label` as one raw configuration object (`a:b:c` keys are paths). */
async function settingsUnder(
  client: AppConfigurationConfigSourceDeps['client'],
  prefix: string,
  label: string,
  sentinelKey: string,
): Promise<Record<string, unknown>> {
  const raw: Record<string, unknown> = {};
  const claimed = new Set<string>();
  for await (const setting of client.listConfigurationSettings({ keyFilter: `${prefix}*`, labelFilter: label })) {
    if (setting.key === sentinelKey || !setting.key.startsWith(prefix)) continue;
    const path = setting.key.slice(prefix.length).split(':');
    if (path.some((p) => p.length === 0)) throw new Error(`${setting.key}: empty path segment in key`);
    assign(raw, path, parseValue(setting), setting.key, claimed);
  }
  return raw;
}
