import { app } from '@azure/functions';
import { builtFunctionsHost } from './bridge/host-loader.js';
import { drainOnTerminate } from './bridge/shutdown.js';
import './http/proxy.js';
import './http/jobs.js';
import './http/health.js';
import './http/admin.js';
import './queues/long-call-worker.js';
import './timers/health-probe.js';
import './timers/retention.js';
import './orchestrations/registrations.js';

// Graceful shutdown of the worker (scale-in, deployment, recycle): drain calls in flight, hand running jobs back
// to their queue, flush usage records and telemetry. The composition root is loaded only if it was built.
app.hook.appTerminate(async () => {
  await drainOnTerminate(builtFunctionsHost(), (line) => void process.stdout.write(line + '\n'));
});

// Responses stream from the backend to the caller (SSE) instead of being buffered by the worker.
// The library reads this when the host asks for capabilities, after every module has loaded.
app.setup({ enableHttpStream: true });
