import type { AppInsightsClientLike } from './app-insights-telemetry.js';

/** Bounds of {@link LazyAppInsightsClient}. */
export interface LazyAppInsightsClientOptions {
  /** Upper bound on one `flush`; a slower export is left to finish in the background. */
  readonly flushTimeoutMs: number;
  /** Items kept while the SDK loads; more are dropped and counted. */
  readonly maxPendingItems: number;
}

/**
 * The Application Insights client, loaded on the first item rather than at start (the SDK is about 3,000
 * modules). Items that arrive while it loads are kept in order (bounded) and sent once it is ready; if it
 * cannot load, they are dropped and counted, and so is everything after. Nothing the SDK throws escapes:
 * it is counted in `dropped`, and a failed or slow flush in `failedFlushes`.
 */
export class LazyAppInsightsClient {
  dropped = 0;
  failedFlushes = 0;
  private loading: Promise<void> | undefined;
  private loadFailed = false;
  private closed = false;
  private readonly pending: Array<(c: AppInsightsClientLike) => void> = [];

  constructor(
    private client: AppInsightsClientLike | undefined,
    private readonly loadClient: () => Promise<AppInsightsClientLike>,
    private readonly options: LazyAppInsightsClientOptions,
  ) {}

  /** Sends one item now, after the load, or not at all (counted) once closed or past the pending bound. */
  send(item: (c: AppInsightsClientLike) => void): void {
    const client = this.client;
    if (this.closed || this.loadFailed || (client === undefined && this.pending.length >= this.options.maxPendingItems))
      this.dropped++;
    else if (client !== undefined) this.sendNow(client, item);
    else {
      this.pending.push(item);
      void this.load();
    }
  }

  /** Flushes what the SDK buffers (loading it first when items wait), within `flushTimeoutMs`. */
  async flush(): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        this.loadAndFlush(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('flush timed out')), this.options.flushTimeoutMs);
          timer.unref();
        }),
      ]);
    } catch {
      this.failedFlushes++;
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
  }

  /** Flushes and releases the exporters; later items are dropped. */
  async shutdown(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    this.closed = true;
    try {
      await this.client?.shutdown();
    } catch {
      this.failedFlushes++;
    }
  }

  private async loadAndFlush(): Promise<void> {
    if (this.client === undefined && this.pending.length > 0) await this.load();
    await this.client?.flush();
  }

  private load(): Promise<void> {
    return (this.loading ??= this.loadClient().then(
      (loaded) => {
        this.client = loaded;
        for (const item of this.pending.splice(0)) this.sendNow(loaded, item);
      },
      () => {
        this.loadFailed = true;
        this.dropped += this.pending.splice(0).length;
      },
    ));
  }

  private sendNow(client: AppInsightsClientLike, item: (c: AppInsightsClientLike) => void): void {
    try {
      item(client);
    } catch {
      this.dropped++;
    }
  }
}
