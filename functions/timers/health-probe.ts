import { app, type InvocationContext, type Timer } from '@azure/functions';
import { functionsHost } from '../bridge/host-loader.js';

/**
 * The `healthProbe` timer: probes every backend that has a `probe` once per run (with the backend's own
 * credentials, each bounded by its timeout) and writes the results through the health tracker to the
 * shared `TableBackendHealthStore`, so every instance sees them. A timer trigger runs on one instance at
 * a time, so the backends see one probe per interval, not one per instance.
 */
export async function healthProbe(_timer: Timer, context: InvocationContext): Promise<void> {
  const { runtime } = await functionsHost();
  await runtime.probeBackends();
  context.log(`probed ${runtime.config().backends.filter((b) => b.probe !== undefined).length} backend(s)`);
}

app.timer('healthProbe', { schedule: '*/30 * * * * *', runOnStartup: false, handler: healthProbe });
