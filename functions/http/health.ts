import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { callEngine } from '../bridge/engine-call.js';

/** The `health` HTTP trigger: `/health/live` and `/health/ready` (config loaded, a backend usable), from the engine. */
export async function health(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return (await callEngine(request, context)).init;
}

app.http('health', { route: 'health/{kind}', methods: ['GET', 'HEAD'], authLevel: 'anonymous', handler: health });
