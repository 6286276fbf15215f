import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { durableClientInput } from '../bridge/durable-registration.js';
import { shouldOrchestrate } from '../../shared/core/jobs/orchestrated-job.js';
import type { GatewayRequest } from '../../shared/core/http/gateway-request.js';
import { callEngine } from '../bridge/engine-call.js';
import type { FunctionsHost } from '../bridge/runtime.js';

/**
 * The `proxy` HTTP trigger: every path not taken by another function goes to the engine, streamed both
 * ways. A thin bridge — it decides nothing. With `GATEWAY_FUNCTIONS__DURABLE_ALL_REQUESTS`, a
 * non-streaming request is marked async so the engine hands it to the durable orchestration (answering
 * inline within the sync wait, else 202).
 */
export async function proxy(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return (await callEngine(request, context, markDurable)).init;
}

async function markDurable(host: FunctionsHost, request: GatewayRequest): Promise<GatewayRequest> {
  if (
    !host.settings.durableAllRequests ||
    host.durable.client === undefined ||
    request.method !== 'POST' ||
    request.body === null
  )
    return request;
  const limit = host.settings.durableAllMaxBodyBytes;
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  let overflow = false;
  const iterator = request.body[Symbol.asyncIterator]();
  // Bounded read: past the limit the request stays direct and the rest streams on unread.
  while (!overflow) {
    const next = await iterator.next();
    if (next.done === true) break;
    chunks.push(next.value);
    bytes += next.value.byteLength;
    overflow = bytes > limit;
  }
  const rest = async function* (): AsyncGenerator<Uint8Array> {
    yield* chunks;
    if (overflow)
      for (let next = await iterator.next(); next.done !== true; next = await iterator.next()) yield next.value;
  };
  const bodyText = overflow ? undefined : new TextDecoder().decode(Buffer.concat(chunks));
  const headers = new Headers();
  request.headers.forEach((value, name) => headers.append(name, value));
  if (shouldOrchestrate({ method: request.method, accept: headers.get('accept'), bodyText }))
    headers.set('x-gateway-async', 'true');
  return { ...request, headers, body: rest() };
}

app.http('proxy', {
  route: '{*path}',
  methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'],
  authLevel: 'anonymous',
  extraInputs: [durableClientInput()],
  handler: proxy,
});
