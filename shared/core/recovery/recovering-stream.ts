import type { TransportErrorKind } from '../../ports/backend-transport.js';
import type { AttemptRecord, DispatchResult } from '../dispatch/dispatcher.js';
import { emptyUsageReading, type UsageReading } from '../usage/usage-reading.js';
import { ContinuationJoiner, DeliveredAnswer, ReplayMatcher, type Splice } from './answer-splice.js';
import { AttemptFailure, AttemptReader } from './attempt-reader.js';
import { readChatEvent, type ChatChunk, type ChunkIdentity } from './chat-chunk.js';
import { continueRequest, replayRequest } from './recovery-request.js';
import { SseEventReader } from './sse-event-reader.js';
import { splicedChunk, usageChunk } from './spliced-chunk.js';
import { sumUsage } from './usage-sum.js';

/** A usage meter over one attempt's bytes (the engine's usage transform). */
export interface AttemptMeter {
  push(chunk: Uint8Array): Uint8Array | undefined;
  end(): Uint8Array | undefined;
  finish(options: { readonly estimate: boolean }): UsageReading;
}

/** How a recovery went, for the usage record. */
export interface RecoveryReport {
  readonly mode: 'continue' | 'replay';
  /** The backend whose stream broke, and how. */
  readonly from: string;
  readonly failure: TransportErrorKind;
  /** The backend that finished the answer (or tried to). */
  readonly to: string | undefined;
  /** True when a backend refused the continuation's prefill and the answer was replayed. */
  readonly prefillRefused: boolean;
  readonly result: 'recovered' | 'diverged' | 'failed';
  /** Characters of the answer the caller had when the stream broke. */
  readonly deliveredChars: number;
  /** Usage of the broken attempt and of the recovering one. */
  readonly usage: readonly UsageReading[];
}

/** What a recovering stream needs from the engine. */
export interface RecoveringStreamOptions {
  /** The attempt whose body goes to the caller first. */
  readonly first: DispatchResult;
  /** The caller's request (the body sent upstream). */
  readonly json: Record<string, unknown>;
  /** False when the request has tools: never continued by prefill, only replayed. */
  readonly prefillAllowed: boolean;
  /** `replay`: never continue by prefill (route setting). */
  readonly mode: 'auto' | 'replay';
  /** The caller asked for the usage chunk (one, with the sum of both attempts, is sent). */
  readonly callerAskedUsage: boolean;
  /** A meter for an attempt; `hideUsageChunk` removes the include_usage chunk from its output. */
  readonly meter: (hideUsageChunk: boolean, body: Record<string, unknown>) => AttemptMeter;
  /** The first attempt's meter hides the usage chunk (the gateway injected include_usage). */
  readonly hideFirstUsageChunk: boolean;
  /** Every configured backend id (to exclude those unable to continue a prefill). */
  readonly backendIds: readonly string[];
  /** Whether a backend may be asked to continue a prefill (declared able, not remembered as refusing). */
  readonly canContinue: (backendId: string) => boolean;
  /** A backend answered a prefill with a 400 about the final assistant message. */
  readonly rememberRefusal: (backendId: string) => void;
  /**
   * Dispatches a recovery attempt (the route's pool, then its fallbacks) excluding `exclude`; resolves with
   * its response once its first event arrived. `signal` bounds the wait.
   */
  readonly redispatch: (
    body: Record<string, unknown>,
    exclude: ReadonlySet<string>,
    signal: AbortSignal,
  ) => Promise<DispatchResult>;
  /** The attempts so far (the record lists every attempt of the call). */
  readonly attempts: { get(): readonly AttemptRecord[]; set(attempts: readonly AttemptRecord[]): void };
  readonly onReport: (report: RecoveryReport) => void;
  readonly callerSignal: AbortSignal;
  readonly idleTimeoutMs: number;
  readonly now: () => number;
}

/** The caller's body of a recoverable stream. */
export interface RecoveringStream {
  readonly body: AsyncIterable<Uint8Array>;
  /** The caller went away: stop the attempt in flight. */
  abort(reason?: unknown): void;
  /** The terminal event's kind for what the body threw. */
  errorKind(error: unknown): TransportErrorKind;
  /** The call's usage: the first attempt's, or the sum of both after a recovery. */
  usage(): UsageReading;
  /** Clears the timers of the attempt in flight; call once the body ended. */
  release(): void;
}

const encoder = new TextEncoder();
const HEARTBEAT = encoder.encode(': recovering the stream\n\n');
const DONE = encoder.encode('data: [DONE]\n\n');
/** The backend sent an error event in the middle of the answer: a failure like a cut. */
const ERROR_EVENT = new Error('the backend sent an error event mid-stream');

/**
 * A streamed chat completion that survives its backend: the first attempt's events go to the caller whole
 * (never half an event), and when its stream breaks after the first byte — a cut, the idle deadline, an error
 * event — the answer is finished on another backend, spliced so that the caller sees one stream (the rules
 * and their reasons: `docs/resilience.md` §5, ADR 0020):
 * - **continue** on a backend declared able to continue a prefill (`continuePrefill`): the request with the
 *   delivered text as the final assistant message; a 400 refusing that message is remembered and replayed;
 * - **replay** elsewhere: the request from the start, held back until it covers what the caller has — if it
 *   differs, the stream ends with the terminal error event;
 * - one `id`/`model`/`created`, one finish reason, one usage chunk (the sum), one `[DONE]`; SSE comment
 *   heartbeats while the caller waits, so it never sees a silence longer than the idle deadline.
 * At most one recovery per call.
 */
export function createRecoveringStream(options: RecoveringStreamOptions): RecoveringStream {
  let current: DispatchResult = options.first;
  let reader: AttemptReader | undefined;
  let total: UsageReading | undefined;
  let firstMeter: AttemptMeter | undefined;
  let recoveryMeter: AttemptMeter | undefined;
  // Set when the relay stops the stream (the caller went away, or the shutdown drain cut it): nothing is
  // recovered from then on, and a recovery under way is abandoned.
  const stop = new AbortController();
  let failureKind: TransportErrorKind = 'other';

  async function* run(): AsyncGenerator<Uint8Array> {
    const state = new FirstAttemptState();
    firstMeter = options.meter(options.hideFirstUsageChunk, options.json);
    reader = new AttemptReader(current.response.body, attemptOf(current), options.idleTimeoutMs, options.now);
    const events = new SseEventReader();
    try {
      for (;;) {
        const read = await reader.next();
        if (read.kind === 'end') {
          // A clean end: whatever is left (an event without its blank line) goes out as it came.
          const held = firstMeter.end();
          if (held !== undefined) for (const event of events.push(held)) yield event.raw;
          const rest = events.rest();
          if (rest !== undefined) yield rest;
          return;
        }
        if (read.kind !== 'chunk') continue;
        const bytes = firstMeter.push(read.bytes);
        if (bytes === undefined) continue;
        for (const event of events.push(bytes)) {
          if (state.take(event.data) === 'error') throw new AttemptFailure('other', ERROR_EVENT);
          yield event.raw;
        }
      }
    } catch (error) {
      const failure = asFailure(error, current);
      failureKind = failure.kind;
      if (stop.signal.aborted || options.callerSignal.aborted || !state.recoverable) throw failure;
      yield* recover(state, failure);
    }
  }

  async function* recover(state: FirstAttemptState, failure: AttemptFailure): AsyncGenerator<Uint8Array> {
    const broken = current.backend.id;
    markLast('cut');
    await reader!.close(failure);
    current.release();
    const firstUsage = firstMeter!.finish({ estimate: true });
    const started = options.now();
    const exclude = new Set([broken]);
    let plan: Plan | undefined;
    // The caller waits from here: a heartbeat now and while the recovery starts, the answer within the idle deadline.
    yield HEARTBEAT;
    const starting = startRecovery(state, exclude, started);
    for (;;) {
      const outcome = await Promise.race([starting, delay(heartbeatMs(options.idleTimeoutMs))]);
      if (outcome !== TICK) {
        plan = outcome;
        break;
      }
      yield HEARTBEAT;
    }
    const report = (result: RecoveryReport['result'], usage: readonly UsageReading[]): void =>
      options.onReport({
        mode: plan?.mode ?? 'replay',
        from: broken,
        failure: failure.kind,
        to: plan?.result?.backend.id,
        prefillRefused: plan?.prefillRefused ?? false,
        result,
        deliveredChars: state.delivered.length,
        usage,
      });
    if (plan.result === undefined) {
      report('failed', [firstUsage]);
      throw failure;
    }
    current = plan.result;
    try {
      yield* splice(state, plan, firstUsage);
      report('recovered', [firstUsage, recoveryMeter!.finish({ estimate: true })]);
    } catch (error) {
      // Stopped by the relay: the recovering backend was serving; it did not fail.
      if (!stop.signal.aborted) markLast(error === DIVERGED ? 'diverged' : 'cut');
      const second = recoveryMeter!.finish({ estimate: true });
      report(error === DIVERGED ? 'diverged' : 'failed', [firstUsage, second]);
      total = sumUsage(firstUsage, second);
      throw failure;
    }
  }

  /** Dispatches the recovery: continue where a backend can, else (or after a refused prefill) replay. */
  async function startRecovery(state: FirstAttemptState, exclude: Set<string>, startedAt: number): Promise<Plan> {
    // The recovering answer's first event must come within the idle deadline the caller sees. The timer is
    // cleared once an answer started: the signal stays with the attempt, and must then follow the caller only.
    const deadline = new AbortController();
    const timer = setTimeout(
      () => deadline.abort(new Error('no recovering answer within the idle deadline')),
      Math.max(1, Math.ceil(options.idleTimeoutMs - (options.now() - startedAt))),
    );
    const signal = AbortSignal.any([options.callerSignal, deadline.signal, stop.signal]);
    try {
      return await planRecovery(state, exclude, signal);
    } finally {
      clearTimeout(timer);
    }
  }

  async function planRecovery(state: FirstAttemptState, exclude: Set<string>, signal: AbortSignal): Promise<Plan> {
    const dispatch = async (body: Record<string, unknown>, skip: ReadonlySet<string>) => {
      const before = options.attempts.get();
      try {
        return await options.redispatch(body, skip, signal);
      } finally {
        options.attempts.set([...before, ...options.attempts.get().filter((a) => !before.includes(a))]);
      }
    };
    const continuable = options.mode === 'auto' && options.prefillAllowed && state.delivered.contentOnly;
    let prefillRefused = false;
    try {
      if (continuable && state.delivered.length > 0) {
        const body = continueRequest(options.json, state.delivered.content, state.contentChunks);
        const result = await dispatch(body, unableToContinue(exclude)).catch(() => undefined);
        if (result !== undefined && result.refusal === 'prefill-rejected') {
          prefillRefused = true;
          options.rememberRefusal(result.backend.id);
          markBackend(result.backend.id, 'failover');
          await result.response.dump().catch(() => undefined);
          result.release();
        } else if (result !== undefined) return { mode: 'continue', result, body, prefillRefused };
      }
      const body = replayRequest(options.json);
      return { mode: 'replay', result: await dispatch(body, exclude), body, prefillRefused };
    } catch {
      return { mode: 'replay', result: undefined, body: {}, prefillRefused };
    }
  }

  /** Backends a continuation must not go to: the excluded, and those unable to continue a prefill. */
  function unableToContinue(exclude: ReadonlySet<string>): ReadonlySet<string> {
    return new Set([...exclude, ...options.backendIds.filter((id) => !options.canContinue(id))]);
  }

  /** Relays the recovering attempt, spliced to what the caller has. */
  async function* splice(state: FirstAttemptState, plan: Plan, firstUsage: UsageReading): AsyncGenerator<Uint8Array> {
    const result = plan.result!;
    const joiner: Splice =
      plan.mode === 'continue'
        ? new ContinuationJoiner(trailingBlanks(state.delivered.content))
        : new ReplayMatcher(state.delivered);
    recoveryMeter = options.meter(true, plan.body);
    reader = new AttemptReader(result.response.body, attemptOf(result), options.idleTimeoutMs, options.now);
    const events = new SseEventReader();
    const identity = state.identity!;
    let roleSent = state.roleDelivered;
    let covered = false;
    let finished = false;
    for (;;) {
      const read = await reader.next(covered ? undefined : heartbeatMs(options.idleTimeoutMs));
      if (read.kind === 'tick') {
        yield HEARTBEAT;
        continue;
      }
      if (read.kind === 'end') break;
      const bytes = recoveryMeter.push(read.bytes);
      if (bytes === undefined) continue;
      for (const event of events.push(bytes)) {
        if (event.data === undefined) continue;
        const parsed = readChatEvent(event.data);
        if (parsed.kind === 'done') {
          if (!finished) throw DIVERGED;
          yield* closing(identity, firstUsage);
          return;
        }
        if (parsed.kind === 'error') throw new AttemptFailure('other', ERROR_EVENT);
        if (parsed.kind !== 'chunk' || parsed.usageOnly || parsed.noChoices) continue;
        if (parsed.otherChoices || parsed.nonText) throw DIVERGED;
        const step = joiner.accept(parsed.pieces);
        if (step.diverged || (!step.covered && parsed.finishReason !== undefined)) throw DIVERGED;
        covered = step.covered;
        if (!covered) continue;
        const out = splicedChunk(parsed, identity, { pieces: step.pieces, whole: step.whole, dropRole: roleSent });
        roleSent ||= parsed.opensRole;
        finished ||= parsed.finishReason !== undefined;
        if (out !== undefined) yield out;
      }
    }
    // Ended without [DONE]: complete only if the answer finished.
    if (!finished) throw new AttemptFailure('reset', new Error('the recovering stream ended early'));
    yield* closing(identity, firstUsage);
  }

  function* closing(identity: ChunkIdentity, firstUsage: UsageReading): Generator<Uint8Array> {
    const second = recoveryMeter!.finish({ estimate: true });
    total = sumUsage(firstUsage, second);
    markLast('served');
    if (options.callerAskedUsage) yield usageChunk(identity, total);
    yield DONE;
  }

  function markLast(outcome: AttemptRecord['outcome']): void {
    markBackend(current.backend.id, outcome);
  }

  /** Rewrites the outcome of the backend's latest attempt in the call's list. */
  function markBackend(backendId: string, outcome: AttemptRecord['outcome']): void {
    const attempts = [...options.attempts.get()];
    const i = attempts.findLastIndex((a) => a.backend === backendId);
    if (i >= 0) attempts[i] = { ...attempts[i]!, outcome };
    options.attempts.set(attempts);
  }

  const body = run();
  return {
    body,
    abort(reason) {
      stop.abort(reason);
      current.abort(reason);
    },
    errorKind: (error) => (error instanceof AttemptFailure ? error.kind : failureKind),
    usage: () => total ?? firstMeter?.finish({ estimate: true }) ?? emptyUsageReading(),
    release: () => {
      current.release();
      void reader?.close();
    },
  };
}

/** The first attempt as the caller received it. */
class FirstAttemptState {
  readonly delivered = new DeliveredAnswer();
  identity: ChunkIdentity | undefined;
  roleDelivered = false;
  /** Chunks that carried content (one token each in OpenAI-style streams): lowers a continuation's limit. */
  contentChunks = 0;
  private finished = false;
  private eligible = true;

  /** True while the stream can still be recovered: one text choice seen, no finish yet. */
  get recoverable(): boolean {
    return this.eligible && !this.finished && this.identity !== undefined;
  }

  /** Notes an event going to the caller; `error` for the backend's own error event (not forwarded). */
  take(data: string | undefined): 'forward' | 'error' {
    if (data === undefined) return 'forward';
    const event = readChatEvent(data);
    if (event.kind === 'error') return this.recoverable ? 'error' : 'forward';
    if (event.kind !== 'chunk') return 'forward';
    this.note(event);
    return 'forward';
  }

  private note(chunk: ChatChunk): void {
    this.identity ??= chunk.identity;
    if (chunk.otherChoices || chunk.nonText) this.eligible = false;
    this.delivered.add(chunk.pieces);
    if (chunk.pieces.some((p) => p.channel === 'content')) this.contentChunks++;
    this.roleDelivered ||= chunk.opensRole;
    if (chunk.finishReason !== undefined) this.finished = true;
  }
}

interface Plan {
  readonly mode: 'continue' | 'replay';
  readonly result: DispatchResult | undefined;
  readonly body: Record<string, unknown>;
  readonly prefillRefused: boolean;
}

const DIVERGED = new Error('the replayed answer differs from the one the caller has');
const TICK: unique symbol = Symbol('tick');

function delay(ms: number): Promise<typeof TICK> {
  return new Promise((resolve) => setTimeout(() => resolve(TICK), ms).unref?.());
}

/** Heartbeats at half the idle deadline: the caller's silence stays well under it. */
function heartbeatMs(idleTimeoutMs: number): number {
  return Math.max(1, Math.floor(idleTimeoutMs / 2));
}

function trailingBlanks(text: string): string {
  return text.slice(text.trimEnd().length);
}

function attemptOf(result: DispatchResult): {
  abort: (reason?: unknown) => void;
  errorKind: (error: unknown) => TransportErrorKind;
} {
  return { abort: result.abort, errorKind: (error) => result.response.errorKind(error) };
}

function asFailure(error: unknown, attempt: DispatchResult): AttemptFailure {
  return error instanceof AttemptFailure ? error : new AttemptFailure(attempt.response.errorKind(error), error);
}
