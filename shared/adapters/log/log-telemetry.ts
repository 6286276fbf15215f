import type { Telemetry, TelemetryDependency } from '../../ports/telemetry.js';

/** Options of {@link createLogTelemetry}. */
export interface LogTelemetryOptions {
  /** Where lines go (default: stdout). */
  readonly write?: (line: string) => void;
  /** Which kinds are written; metrics and dependencies are verbose and off by default. */
  readonly kinds?: ReadonlySet<'event' | 'metric' | 'dependency' | 'exception'>;
  readonly now?: () => number;
}

/**
 * Structured log-line telemetry: one JSON object per line, for the standalone host and local runs.
 *
 * @example
 * const telemetry = createLogTelemetry({ kinds: new Set(['event', 'exception']) });
 */
export function createLogTelemetry(options: LogTelemetryOptions = {}): Telemetry {
  const write = options.write ?? ((line: string) => process.stdout.write(line + '\n'));
  const kinds = options.kinds ?? new Set(['event', 'exception'] as const);
  const now = options.now ?? (() => Date.now());
  const emit = (kind: 'event' | 'metric' | 'dependency' | 'exception', body: Record<string, unknown>): void => {
    if (!kinds.has(kind)) return;
    try {
      write(JSON.stringify({ time: new Date(now()).toISOString(), kind, ...body }));
    } catch {
      // Telemetry never fails a request.
    }
  };
  return {
    event: (name, properties, measurements) => emit('event', { name, properties, measurements }),
    metric: (name, value, properties) => emit('metric', { name, value, properties }),
    dependency: (d: TelemetryDependency) => emit('dependency', { ...d }),
    exception: (error, properties) =>
      emit('exception', {
        message: error instanceof Error ? error.message : String(error),
        stack: error instanceof Error ? error.stack : undefined,
        properties,
      }),
    flush: async () => undefined,
    wants: (kind) => kinds.has(kind),
  };
}
