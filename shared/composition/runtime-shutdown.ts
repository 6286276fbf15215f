import type { DrainReport } from '../core/lifecycle/call-drain.js';
import type { InProcessJobs } from './in-process-jobs.js';
import type { RuntimeParts } from './runtime-parts.js';
import { withTimeout } from './with-timeout.js';

/** The shutdown drain: calls in flight and in-process jobs get `graceMs`, then what is open is cut. */
export async function drainRuntime(
  { callDrain, telemetry }: RuntimeParts,
  jobs: InProcessJobs | undefined,
  graceMs: number,
): Promise<DrainReport> {
  const [report] = await Promise.all([callDrain.drain(graceMs), jobs?.runner.stop({ graceMs })]);
  telemetry.event('GatewayDrained', { ...report, graceMs });
  return report;
}

/**
 * Stops everything the runtime started and closes what it owns, in dependency order: timers and probes,
 * jobs, the capacity ledger share, the scheduler, health, the transport, then the sinks of usage and telemetry.
 */
export async function closeRuntime(parts: RuntimeParts, jobs: InProcessJobs | undefined): Promise<void> {
  const { sync, prober, httpProbe, shareAgent, telemetry } = parts;
  sync.stopTicking();
  parts.stopMetrics();
  prober.stop();
  await httpProbe.close();
  jobs?.stopSweep();
  await jobs?.runner.stop({ graceMs: 1_000 });
  sync.stopFollowingHealth();
  // Leaving the ledger gives this instance's share back to the others at once (bounded: storage may be down).
  await withTimeout(shareAgent?.close() ?? Promise.resolve(), 2_000).catch((error: unknown) =>
    telemetry.exception(error, { component: 'capacity-ledger', operation: 'leave' }),
  );
  parts.gate.dispose();
  await parts.health.flush();
  await parts.counted.transport.close();
  // Calls that ended record off the response path (setImmediate); one turn of the immediate queue runs
  // every record scheduled so far, so the last calls' records reach the ledger before it closes.
  await new Promise<void>((resolve) => setImmediate(resolve));
  await parts.ledger.close();
  await parts.usageExporter?.close();
  await telemetry.flush();
}
