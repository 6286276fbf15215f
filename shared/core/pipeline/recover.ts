import type { TokenEstimator } from '../../ports/token-estimator.js';
import type { Clock } from '../clock.js';
import type { DispatchResult } from '../dispatch/dispatcher.js';
import { PrefillRefusals } from '../recovery/prefill-refusals.js';
import { recoveryEligibility } from '../recovery/recovery-request.js';
import {
  createRecoveringStream,
  type AttemptMeter,
  type RecoveringStream,
  type RecoveringStreamOptions,
} from '../recovery/recovering-stream.js';
import { estimatePromptTokens } from '../usage/prompt-estimate.js';
import { emptyUsageReading } from '../usage/usage-reading.js';
import { createUsageTransform } from '../usage/usage-transform.js';
import type { Call } from './call-summary.js';
import type { UpstreamBody } from './dispatch.js';
import type { EngineSnapshot } from './engine-snapshot.js';
import type { RoutedCall } from './route.js';

/** What the engine gives respond so that a broken stream can be finished elsewhere. */
export interface StreamRecoveryHooks {
  /** Backends that refused a prefill, remembered across calls (one per engine). */
  readonly refusals: PrefillRefusals;
  /** Dispatches a recovery attempt over the call's route chain (its pool, then its fallbacks). */
  readonly redispatch: RecoveringStreamOptions['redispatch'];
}

/** Dependencies of {@link recoveringStreamFor}. */
export interface RecoverDeps {
  readonly clock: Clock;
  readonly estimator?: TokenEstimator | undefined;
}

/**
 * The recovering stream for a call whose answer may be finished on another backend if it breaks, or
 * undefined when recovery does not apply: the route's `streamRecovery` is `off`; not an OpenAI / Azure
 * OpenAI chat completion streamed as SSE with a 2xx; more than one choice asked for.
 *
 * @example
 * const recovering = recoveringStreamFor(deps, snapshot, call, routed, upstream, result, hooks);
 */
export function recoveringStreamFor(
  deps: RecoverDeps,
  s: EngineSnapshot,
  call: Call,
  routed: RoutedCall,
  upstream: UpstreamBody,
  result: DispatchResult,
  hooks: StreamRecoveryHooks | undefined,
): RecoveringStream | undefined {
  const setting = routed.match.route.streamRecovery;
  const { target } = routed;
  const contentType = String(result.response.headers['content-type'] ?? '');
  if (hooks === undefined || setting === 'off' || upstream.json === undefined) return undefined;
  if ((target.shape !== 'openai' && target.shape !== 'azure-openai') || target.operation !== 'chat/completions')
    return undefined;
  if (result.response.status >= 300 || !contentType.startsWith('text/event-stream')) return undefined;
  const eligibility = recoveryEligibility(upstream.json);
  if (!eligibility.recoverable) return undefined;
  const { clock } = deps;
  const { summary } = call;
  const backends = s.config.backends;
  const asked = routed.json?.stream_options as { include_usage?: unknown } | undefined;
  return createRecoveringStream({
    first: result,
    json: upstream.json,
    prefillAllowed: eligibility.prefillAllowed,
    mode: setting,
    callerAskedUsage: asked?.include_usage === true,
    hideFirstUsageChunk: summary.includeUsageInjected,
    meter: (hide, body) => meterFor(deps, s, routed.model, hide, body),
    backendIds: backends.map((b) => b.id),
    canContinue: (id) =>
      backends.find((b) => b.id === id)?.continuePrefill === true && !hooks.refusals.refuses(id, clock.now()),
    rememberRefusal: (id) => hooks.refusals.remember(id, clock.now()),
    redispatch: hooks.redispatch,
    attempts: { get: () => summary.attempts, set: (attempts) => (summary.attempts = attempts) },
    onReport: (report) => {
      summary.recovery = report;
      const to = backends.find((b) => b.id === report.to);
      if (report.result === 'recovered' && to !== undefined) summary.backend = to;
    },
    callerSignal: call.request.signal,
    idleTimeoutMs: result.idleTimeoutMs,
    now: () => clock.monotonicMs(),
  });
}

function meterFor(
  deps: RecoverDeps,
  s: EngineSnapshot,
  model: string | undefined,
  hideUsageChunk: boolean,
  body: Record<string, unknown>,
): AttemptMeter {
  if (!s.config.usage.enabled) {
    return { push: (chunk) => chunk, end: () => undefined, finish: () => emptyUsageReading() };
  }
  const { estimator } = deps;
  return createUsageTransform(
    { api: 'openai-chat', framing: 'sse' },
    {
      stripUsageOnlyChunk: hideUsageChunk,
      estimator,
      requestModel: model,
      estimatePromptTokens: () => (estimator === undefined ? undefined : estimatePromptTokens(body, estimator, model)),
    },
  );
}

export { PrefillRefusals };
