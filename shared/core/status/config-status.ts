import { createHash } from 'node:crypto';

/** Where the configuration came from, which one is in force, and how the last reload went. */
export interface ConfigStatusView {
  /** The source's name: a file path, an App Configuration endpoint, `embedded defaults`. */
  readonly source: string;
  /** A short fingerprint of the configuration in force (SHA-256 of its JSON, 12 hex characters). */
  readonly version: string;
  /** When the configuration in force was first seen by this instance. */
  readonly sinceMs: number;
  /** The last reload attempt, accepted or refused (null before any). */
  readonly lastReload: {
    readonly atMs: number;
    readonly ok: boolean;
    readonly source: string;
    /** Why it was refused (at most 10 problems, each cut to 300 characters). */
    readonly issues: readonly string[];
  } | null;
  readonly reloadsAccepted: number;
  readonly reloadsRefused: number;
}

/** A reload attempt as the config store reports it (`ConfigReloadEvent`). */
export interface ConfigReloadReport {
  readonly ok: boolean;
  readonly source: string;
  readonly issues?: readonly string[];
  readonly atMs: number;
}

/**
 * Tracks the configuration in force and its reloads for the status page and the terminal. The version is
 * a fingerprint, not the content: nothing of the configuration (keys, URLs) is shown.
 *
 * @example
 * const status = new ConfigStatus('gateway.config.json');
 * status.observe(config(), clock.now());
 * store.onReload((event) => status.reloaded(event));
 */
export class ConfigStatus {
  private current: object | undefined;
  private version = '';
  private sinceMs = 0;
  private lastReload: ConfigStatusView['lastReload'] = null;
  private accepted = 0;
  private refused = 0;
  private readonly versions = new WeakMap<object, string>();

  constructor(private source: string) {}

  /** Notes the configuration in force now (cheap when it is the same object as before). */
  observe(config: object, nowMs: number): void {
    if (config === this.current) return;
    this.current = config;
    this.version = fingerprint(config, this.versions);
    this.sinceMs = nowMs;
  }

  /** Notes a reload attempt. */
  reloaded(event: ConfigReloadReport): void {
    if (event.ok) this.accepted += 1;
    else this.refused += 1;
    this.source = event.source;
    this.lastReload = {
      atMs: event.atMs,
      ok: event.ok,
      source: event.source,
      issues: (event.issues ?? []).slice(0, 10).map((i) => (i.length > 300 ? `${i.slice(0, 299)}…` : i)),
    };
  }

  view(): ConfigStatusView {
    return {
      source: this.source,
      version: this.version,
      sinceMs: this.sinceMs,
      lastReload: this.lastReload,
      reloadsAccepted: this.accepted,
      reloadsRefused: this.refused,
    };
  }
}

function fingerprint(config: object, cache: WeakMap<object, string>): string {
  let version = cache.get(config);
  if (version === undefined) {
    version = createHash('sha256').update(JSON.stringify(config)).digest('hex').slice(0, 12);
    cache.set(config, version);
  }
  return version;
}
