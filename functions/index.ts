import { app } from '@azure/functions';
import './http/proxy.js';
import './http/jobs.js';
import './http/health.js';
import './http/admin.js';
import './queues/long-call-worker.js';
import './timers/health-probe.js';
import './timers/retention.js';
import './orchestrations/registrations.js';

// Responses stream from the backend to the caller (SSE) instead of being buffered by the worker.
// The library reads this when the host asks for capabilities, after every module has loaded.
app.setup({ enableHttpStream: true });
