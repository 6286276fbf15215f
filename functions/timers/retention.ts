import { app, type InvocationContext, type Timer } from '@azure/functions';
import { functionsHost } from '../bridge/host-loader.js';

/**
 * The `retention` timer: moves jobs past their retention to `expired` (deleting their request and
 * responses from Blob) and deletes old tombstones — a bounded sweep per run (`sweepExpiredJobs`).
 */
export async function retention(_timer: Timer, context: InvocationContext): Promise<void> {
  const report = await (await functionsHost()).runtime.jobs.sweep();
  context.log(`retention: ${report.expired} job(s) expired, ${report.deleted} tombstone(s) deleted`);
}

app.timer('retention', { schedule: '0 */5 * * * *', runOnStartup: false, handler: retention });
