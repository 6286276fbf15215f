import type { DrainReport } from '../../shared/core/lifecycle/call-drain.js';
import type { FunctionsHost } from './runtime.js';

/**
 * Aborted when the worker shuts down: a long-call job still running then is abandoned by its trigger, so the
 * queue delivers it again (to another instance) — the job goes back to its queue instead of being lost.
 */
export const workerShutdown = new AbortController();

/**
 * The `appTerminate` hook of the Functions app (`app.hook.appTerminate`, @azure/functions ≥ 4.1: run on a
 * graceful shutdown of the worker, within the host's own limited time). Drains the engine — readiness false,
 * new calls 503 with `connection: close`, calls in flight finish within `server.shutdownGraceMs`, streams
 * still open then end with their terminal error event — hands running long-call jobs back to their queue,
 * then closes the runtime, which flushes the buffered usage records (Table ledger, usage export) and
 * telemetry (issue 13 item 16). A worker that never built its host has nothing to drain.
 *
 * @example
 * app.hook.appTerminate(() => drainOnTerminate(builtFunctionsHost()));
 */
export async function drainOnTerminate(
  host: Promise<FunctionsHost> | undefined,
  log: (line: string) => void = () => undefined,
): Promise<DrainReport | undefined> {
  const built = await host?.catch(() => undefined);
  if (built === undefined) return undefined;
  const report = await built.runtime.drain();
  workerShutdown.abort();
  await built.runtime.close();
  log(
    `gateway: worker shutting down: ${report.inFlightAtStart} ` +
      `call(s) drained, ${report.cut} cut after the grace period`,
  );
  return report;
}
