import type { ConfigSource } from '../ports/config-source.js';
import { systemClock, type Clock } from '../core/clock.js';
import type { GatewayConfig } from './gateway-schema.js';

/** What a validator answers: the config, or every problem found (`validateConfig` has this shape). */
export type ValidationResult<T> = { ok: true; config: T } | { ok: false; issues: string[] };

/** Reported after every reload attempt (wire it to telemetry). */
export interface ConfigReloadEvent {
  readonly ok: boolean;
  /** The source's name (a file path, an App Configuration endpoint). */
  readonly source: string;
  /** Why the reload was rejected; the last good configuration stays in force. */
  readonly issues?: readonly string[];
  /** When the attempt finished (epoch milliseconds). */
  readonly atMs: number;
}

/** The configuration in force, swapped atomically on reload. */
/** What one reload did: swapped, or refused with its issues. */
type ReloadOutcome = { ok: boolean; issues?: readonly string[] };

export interface ConfigStore<T> {
  /**
   * The current frozen snapshot. Read it once per request and keep the object: a reload replaces the
   * snapshot, never mutates it, so a request in flight keeps the configuration it started with.
   * Throws when no configuration has loaded yet.
   */
  current(): T;
  /** True once a configuration is in force. */
  loaded(): boolean;
  /**
   * Loads the source, validates, and swaps on success. An invalid or unreadable configuration is
   * rejected with its issues and the last good one stays. Reloads run one at a time, in call order; a reload
   * asked for while another one is still waiting its turn shares that one (it reads the source when it starts,
   * so it sees every change made before), so a source changing without pause keeps at most one reload running
   * and one waiting.
   */
  reload(): Promise<{ ok: boolean; issues?: readonly string[] }>;
  /** Reloads whenever the source reports a change; returns a function that stops watching. */
  watch(): () => void;
}

/**
 * Creates the config store that hot reload goes through.
 *
 * @example
 * const source = createJsonFileConfigSource({ file });
 * const store = createConfigStore({ source, validate: validateConfig, onReload: report });
 * const first = await store.reload();
 * if (!first.ok) throw new Error(first.issues?.join('\n'));
 * store.watch();
 * const config = store.current();
 */
export function createConfigStore<T = GatewayConfig>(options: {
  source: ConfigSource;
  validate: (raw: unknown) => ValidationResult<T> | Promise<ValidationResult<T>>;
  onReload?: (event: ConfigReloadEvent) => void;
  /** A configuration in force before the first reload (e.g. the one validated at startup). */
  initial?: T;
  clock?: Clock;
}): ConfigStore<T> {
  const clock = options.clock ?? systemClock;
  let snapshot: T | undefined = options.initial === undefined ? undefined : deepFreeze(options.initial);
  let queue: Promise<unknown> = Promise.resolve();
  let waiting: Promise<ReloadOutcome> | undefined;

  async function attempt(): Promise<ReloadOutcome> {
    waiting = undefined; // from here on, a new request must wait for the next load: this one has begun
    let result: ValidationResult<T>;
    try {
      result = await options.validate(await options.source.load());
    } catch (error) {
      // Name the source once: some sources already put their name in the message.
      const message = (error as Error).message;
      const named = message.startsWith(options.source.name) ? message : `${options.source.name}: ${message}`;
      result = { ok: false, issues: [named] };
    }
    if (result.ok) snapshot = deepFreeze(result.config);
    const outcome = result.ok ? { ok: true } : { ok: false, issues: Object.freeze([...result.issues]) };
    try {
      options.onReload?.({ ...outcome, source: options.source.name, atMs: clock.now() });
    } catch {
      // A failing listener must not undo or fail a reload that already happened.
    }
    return outcome;
  }

  const store: ConfigStore<T> = {
    current() {
      if (snapshot === undefined) throw new Error(`No configuration has loaded from ${options.source.name}.`);
      return snapshot;
    },
    loaded: () => snapshot !== undefined,
    reload() {
      if (waiting !== undefined) return waiting;
      const run = queue.then(attempt, attempt);
      queue = run;
      waiting = run;
      return run;
    },
    watch() {
      return options.source.watch(() => {
        void store.reload();
      });
    },
  };
  return store;
}

function deepFreeze<V>(value: V): V {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
