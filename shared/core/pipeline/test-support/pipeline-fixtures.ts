import type { GatewayConfig } from '../../../config/gateway-schema.js';
import type { Clock } from '../../clock.js';
import type { DispatchInput, DispatchResult, Dispatcher } from '../../dispatch/dispatcher.js';
import type { Admission, Caller } from '../../governance/admission.js';
import type { GatewayRequest } from '../../http/gateway-request.js';
import { createRouter } from '../../routing/router.js';
import type { CallContext } from '../admit.js';
import { startCall, type Call } from '../call-summary.js';
import type { EngineSnapshot } from '../engine-snapshot.js';

/** A request as a host would pass it: absolute URL, headers, an optional body in chunks. */
export function gatewayRequest(
  init: {
    readonly method?: string;
    readonly path?: string;
    readonly headers?: Record<string, string>;
    readonly body?: string | readonly Uint8Array[];
    readonly signal?: AbortSignal;
  } = {},
): GatewayRequest {
  const chunks = typeof init.body === 'string' ? [new TextEncoder().encode(init.body)] : init.body;
  return {
    method: init.method ?? 'POST',
    url: `http://gateway.test${init.path ?? '/v1/chat/completions'}`,
    headers: new Headers(init.headers ?? (chunks === undefined ? {} : { 'content-type': 'application/json' })),
    body:
      chunks === undefined
        ? null
        : (async function* () {
            yield* chunks;
          })(),
    signal: init.signal ?? new AbortController().signal,
  };
}

/** A call started for `request` at the clock's time. */
export function callOf(request: GatewayRequest, clock: Clock): Call {
  return startCall(request, clock);
}

/** A dispatcher that answers from `answer` and records every input it was given. */
export function scriptedDispatcher(answer: (input: DispatchInput) => Promise<DispatchResult>): Dispatcher & {
  readonly inputs: DispatchInput[];
} {
  const inputs: DispatchInput[] = [];
  return {
    inputs,
    dispatch(input) {
      inputs.push(input);
      return answer(input);
    },
  };
}

/** The engine snapshot of `config`, with a scripted dispatcher (the real one is tested on its own). */
export function snapshotOf(config: GatewayConfig, dispatcher?: Dispatcher): EngineSnapshot {
  return {
    config,
    router: createRouter(config),
    dispatcher: dispatcher ?? scriptedDispatcher(() => Promise.reject(new Error('no dispatch expected'))),
    pools: new Map(config.pools.map((p) => [p.id, p])),
    stripResponse: new Set(config.headers.stripResponse.map((h) => h.toLowerCase())),
    stripRequest: new Set(config.headers.stripRequest.map((h) => h.toLowerCase())),
  };
}

/** An admission as `GatewayAdmission.admit` answers it, for the profile `profileId`. */
export function admissionOf(caller: Partial<Caller> = {}, extra: Partial<Admission> = {}): Admission {
  const full: Caller = { userId: 'alice', profileId: 'standard', identity: 'api-key', ...caller };
  return {
    caller: full,
    profile: { id: full.profileId } as Admission['profile'],
    priority: 2,
    upstreamHeaders: { set: {}, remove: [] },
    asyncAllowed: false,
    asyncUpgradeWhenQueued: false,
    asyncResultRetentionMs: 86_400_000,
    governance: {} as Admission['governance'],
    ...extra,
  };
}

/** The context of a live call admitted as `admission`. */
export function liveContext(admission: Admission = admissionOf()): CallContext {
  return {
    caller: admission.caller,
    priority: admission.priority,
    admission,
    asyncJobId: undefined,
    capacityHeld: false,
  };
}

/** The context of a job's execution (its owner re-admitted as `admission`). */
export function jobContext(jobId = 'job_1', capacityHeld = false, admission: Admission = admissionOf()): CallContext {
  return {
    caller: admission.caller,
    priority: admission.priority,
    admission,
    asyncJobId: jobId,
    capacityHeld,
  };
}

/** Reads an engine response body to the end. */
export async function readText(body: AsyncIterable<Uint8Array> | null): Promise<string> {
  if (body === null) return '';
  const decoder = new TextDecoder();
  let text = '';
  for await (const chunk of body) text += decoder.decode(chunk, { stream: true });
  return text + decoder.decode();
}
