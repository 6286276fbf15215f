/**
 * Where the gateway reports what happened: one event per request (the usage record's fields), metrics
 * (tokens, latency), a dependency per backend attempt, exceptions, and operational events (config
 * reloads, breaker transitions). Adapters: `LogTelemetry` (structured log lines, the embedded
 * default) and `AppInsightsTelemetry` (Application Insights). A telemetry call never blocks or fails
 * a request: adapters buffer, and swallow and count their own errors.
 */
export interface Telemetry {
  /** A named event with string properties and numeric measurements. */
  event(
    name: string,
    properties: Readonly<Record<string, string | number | boolean | undefined>>,
    measurements?: Readonly<Record<string, number>>,
  ): void;
  /** A metric sample. */
  metric(name: string, value: number, properties?: Readonly<Record<string, string>>): void;
  /** One call to a backend (an attempt). */
  dependency(attempt: TelemetryDependency): void;
  /** An unexpected error. */
  exception(error: unknown, properties?: Readonly<Record<string, string>>): void;
  /** Sends what is buffered. */
  flush(): Promise<void>;
  /**
   * Whether this telemetry records a kind at all (default: yes). Lets callers skip building per-request
   * payloads that would be dropped.
   */
  wants?(kind: 'event' | 'metric' | 'dependency' | 'exception'): boolean;
}

/** A backend attempt as telemetry sees it. */
export interface TelemetryDependency {
  readonly requestId: string;
  /** Backend id (never its URL with secrets). */
  readonly target: string;
  readonly name: string;
  readonly durationMs: number;
  readonly status: number | undefined;
  readonly success: boolean;
  readonly startedAtMs: number;
  readonly properties?: Readonly<Record<string, string>>;
}
