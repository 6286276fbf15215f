import { app } from '@azure/functions';
import './http/proxy.js';

// Responses stream from the backend to the caller (SSE) instead of being buffered by the worker.
// The library reads this when the host asks for capabilities, after every module has loaded.
app.setup({ enableHttpStream: true });
