import type { TransportErrorKind } from '../../ports/backend-transport.js';
import { concatBytes } from '../concat-bytes.js';
import type { AttemptRecord, DispatchResult } from '../dispatch/dispatcher.js';
import { emptyUsageReading, type UsageReading } from '../usage/usage-reading.js';
import { ContinuationJoiner, ReplayMatcher, type Splice } from './answer-splice.js';
import { AttemptFailure, AttemptReader } from './attempt-reader.js';
import { readChatEvent, type ChunkIdentity } from './chat-chunk.js';
import { FirstAttemptState } from './first-attempt.js';
import { continueRequest, replayRequest } from './recovery-request.js';
import { SseEventFramer } from './sse-event-framer.js';
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
  const run = new RecoveringRun(options);
  // Single use, like the generator it replaced: every call of [Symbol.asyncIterator] answers the same run.
  const body: AsyncIterable<Uint8Array> = { [Symbol.asyncIterator]: () => run };
  return {
    body,
    abort: (reason) => run.abort(reason),
    errorKind: (error) => (error instanceof AttemptFailure ? error.kind : run.failureKind),
    usage: () => run.usage(),
    release: () => run.release(),
  };
}

/**
 * One recoverable stream's run: the first attempt, and at most one recovery. The first attempt is relayed as a
 * plain iterator — each `next` is the body's read and one `then` (no generator, no object or async step of the
 * reader's own per read; a stream is hundreds of reads, ADR 0067); after a failure that can be recovered, the
 * rest of the stream is the recovery's generator (heartbeats, the splice), which `next` then follows.
 */
class RecoveringRun implements AsyncIterator<Uint8Array> {
  private current: DispatchResult;
  private reader: AttemptReader | undefined;
  private total: UsageReading | undefined;
  private firstMeter: AttemptMeter | undefined;
  private recoveryMeter: AttemptMeter | undefined;
  // Set when the relay stops the stream (the caller went away, or the shutdown drain cut it): nothing is
  // recovered from then on, and a recovery under way is abandoned.
  // Made when a recovery needs its signal (most streams never break: no AbortController per stream).
  private stop: AbortController | undefined;
  private stopped = false;
  private stopReason: unknown;
  failureKind: TransportErrorKind = 'other';
  /** The first attempt's state, and the framer that keeps only whole events going out. */
  private readonly state = new FirstAttemptState();
  private readonly framer = new SseEventFramer();
  /** The first attempt ended (cleanly, or with a failure that was thrown): every later `next` ends. */
  private ended = false;
  /** An error event withheld after the events before it went out: the next `next` fails with it. */
  private withheld: AttemptFailure | undefined;
  /** The stream after a recoverable failure: the recovery (heartbeats, then the spliced answer). */
  private rest: AsyncGenerator<Uint8Array> | undefined;

  constructor(private readonly options: RecoveringStreamOptions) {
    this.current = options.first;
  }

  abort(reason: unknown): void {
    this.stopped = true;
    this.stopReason = reason;
    this.stop?.abort(reason);
    this.current.abort(reason);
  }

  usage(): UsageReading {
    return this.total ?? this.firstMeter?.finish({ estimate: true }) ?? emptyUsageReading();
  }

  release(): void {
    this.current.release();
    void this.reader?.close();
  }

  next(): Promise<IteratorResult<Uint8Array>> {
    if (this.rest !== undefined) return this.rest.next();
    if (this.ended) return Promise.resolve(END);
    const reader = (this.reader ??= this.start());
    const withheld = this.withheld;
    if (withheld !== undefined) return this.failed(withheld);
    let read: Promise<IteratorResult<Uint8Array>>;
    try {
      read = reader.read();
    } catch (error) {
      return this.failed(reader.failed(error));
    }
    return read.then(this.onRead, this.onError);
  }

  /** The caller stopped reading: the run ends (the relay then releases the attempt in flight). */
  return(): Promise<IteratorResult<Uint8Array>> {
    if (this.rest !== undefined) return this.rest.return(undefined);
    this.ended = true;
    return Promise.resolve(END);
  }

  private start(): AttemptReader {
    const { options } = this;
    this.firstMeter = options.meter(options.hideFirstUsageChunk, options.json);
    return this.readerOf(this.current);
  }

  /** One read of the first attempt: its whole events go out (or, none completed yet, the next read is asked). */
  private readonly onRead = (
    result: IteratorResult<Uint8Array>,
  ): IteratorResult<Uint8Array> | Promise<IteratorResult<Uint8Array>> => {
    let whole: Uint8Array | undefined;
    let forward: number;
    try {
      this.reader!.received(result);
      if (result.done === true) return this.end();
      const bytes = this.firstMeter!.push(result.value);
      // The whole events of one read go out in one piece: one hand-off per read, not per event (a backlog of
      // thousands of buffered events is relayed in a few writes, not thousands of async steps — ADR 0048).
      whole = bytes === undefined ? undefined : this.framer.push(bytes);
      if (whole === undefined) return this.next();
      forward = this.state.take(whole);
    } catch (error) {
      return this.failed(error);
    }
    if (forward === whole.length) return whole === result.value ? result : { done: false, value: whole };
    // The backend's error event: the events before it go out, then the stream fails (and is recovered).
    const failure = new AttemptFailure('other', ERROR_EVENT);
    if (forward === 0) return this.failed(failure);
    this.withheld = failure;
    return { done: false, value: whole.subarray(0, forward) };
  };

  private readonly onError = (error: unknown): Promise<IteratorResult<Uint8Array>> =>
    this.failed(this.reader!.failed(error));

  /** A clean end: whatever is left (an event without its blank line) goes out as it came. */
  private end(): IteratorResult<Uint8Array> {
    this.ended = true;
    const held = this.firstMeter!.end();
    const whole = held === undefined ? undefined : this.framer.push(held);
    const out = [whole, this.framer.rest()].filter((part) => part !== undefined);
    return out.length > 0 ? { done: false, value: concatBytes(out) } : END;
  }

  /**
   * The first attempt failed: the failure is thrown when the stream cannot be recovered (or the relay stopped
   * it); otherwise the recovery takes over the stream.
   */
  private failed(error: unknown): Promise<IteratorResult<Uint8Array>> {
    this.ended = true;
    this.withheld = undefined;
    const failure = asFailure(error, this.current);
    this.failureKind = failure.kind;
    const { state } = this;
    if (this.stopped || this.options.callerSignal.aborted || !state.recoverable) {
      return Promise.reject(failure);
    }
    this.rest = this.recover(state, failure);
    return this.rest.next();
  }

  private async *recover(state: FirstAttemptState, failure: AttemptFailure): AsyncGenerator<Uint8Array> {
    const broken = this.current.backend.id;
    this.markLast('cut');
    await this.reader!.close(failure);
    this.current.release();
    const firstUsage = this.firstMeter!.finish({ estimate: true });
    const startedAt = this.options.now();
    const plan = yield* this.heartbeatsUntil(() => this.startRecovery(state, new Set([broken]), startedAt));
    const report = (result: RecoveryReport['result'], usage: readonly UsageReading[]): void =>
      this.options.onReport({
        mode: plan.mode,
        from: broken,
        failure: failure.kind,
        to: plan.result?.backend.id,
        prefillRefused: plan.prefillRefused,
        result,
        deliveredChars: state.delivered.length,
        usage,
      });
    if (plan.result === undefined) {
      report('failed', [firstUsage]);
      throw failure;
    }
    this.current = plan.result;
    try {
      yield* this.splice(state, plan, firstUsage);
      report('recovered', [firstUsage, this.recoveryMeter!.finish({ estimate: true })]);
    } catch (error) {
      // Stopped by the relay: the recovering backend was serving; it did not fail.
      if (!this.stopped) this.markLast(error === DIVERGED ? 'diverged' : 'cut');
      const second = this.recoveryMeter!.finish({ estimate: true });
      report(error === DIVERGED ? 'diverged' : 'failed', [firstUsage, second]);
      this.total = sumUsage(firstUsage, second);
      throw failure;
    }
  }

  /**
   * The caller waits from here: a heartbeat now and while the recovery starts (the answer comes within the idle
   * deadline). Starts the recovery after the first heartbeat; returns it once started.
   */
  private async *heartbeatsUntil(start: () => Promise<Plan>): AsyncGenerator<Uint8Array, Plan> {
    yield HEARTBEAT;
    const starting = start();
    for (;;) {
      const outcome = await Promise.race([starting, delay(heartbeatMs(this.options.idleTimeoutMs))]);
      if (outcome !== TICK) return outcome;
      yield HEARTBEAT;
    }
  }

  /** Dispatches the recovery: continue where a backend can, else (or after a refused prefill) replay. */
  private async startRecovery(state: FirstAttemptState, exclude: Set<string>, startedAt: number): Promise<Plan> {
    const { options } = this;
    // The recovering answer's first event must come within the idle deadline the caller sees. The timer is
    // cleared once an answer started: the signal stays with the attempt, and must then follow the caller only.
    const deadline = new AbortController();
    const timer = setTimeout(
      () => deadline.abort(new Error('no recovering answer within the idle deadline')),
      Math.max(1, Math.ceil(options.idleTimeoutMs - (options.now() - startedAt))),
    );
    const signal = AbortSignal.any([options.callerSignal, deadline.signal, this.stopSignal()]);
    try {
      return await this.planRecovery(state, exclude, signal);
    } finally {
      clearTimeout(timer);
    }
  }

  private async planRecovery(state: FirstAttemptState, exclude: Set<string>, signal: AbortSignal): Promise<Plan> {
    const { options } = this;
    const continuable = options.mode === 'auto' && options.prefillAllowed && state.delivered.contentOnly;
    let prefillRefused = false;
    try {
      if (continuable && state.delivered.length > 0) {
        const body = continueRequest(options.json, state.delivered.content, state.contentChunks);
        const result = await this.dispatch(body, this.unableToContinue(exclude), signal).catch(() => undefined);
        if (result !== undefined && result.refusal === 'prefill-rejected') {
          prefillRefused = true;
          options.rememberRefusal(result.backend.id);
          this.markBackend(result.backend.id, 'failover');
          await result.response.dump().catch(() => undefined);
          result.release();
        } else if (result !== undefined) return { mode: 'continue', result, body, prefillRefused };
      }
      const body = replayRequest(options.json);
      return { mode: 'replay', result: await this.dispatch(body, exclude, signal), body, prefillRefused };
    } catch {
      return { mode: 'replay', result: undefined, body: {}, prefillRefused };
    }
  }

  /** Aborted when the relay stopped the stream (made on first use: already aborted if it was stopped before). */
  private stopSignal(): AbortSignal {
    if (this.stop === undefined) {
      this.stop = new AbortController();
      if (this.stopped) this.stop.abort(this.stopReason);
    }
    return this.stop.signal;
  }

  /** Dispatches one recovery attempt; the attempts it made join the call's list. */
  private async dispatch(
    body: Record<string, unknown>,
    skip: ReadonlySet<string>,
    signal: AbortSignal,
  ): Promise<DispatchResult> {
    const { attempts } = this.options;
    const before = attempts.get();
    try {
      return await this.options.redispatch(body, skip, signal);
    } finally {
      attempts.set([...before, ...attempts.get().filter((a) => !before.includes(a))]);
    }
  }

  /** Backends a continuation must not go to: the excluded, and those unable to continue a prefill. */
  private unableToContinue(exclude: ReadonlySet<string>): ReadonlySet<string> {
    const { options } = this;
    return new Set([...exclude, ...options.backendIds.filter((id) => !options.canContinue(id))]);
  }

  /** Relays the recovering attempt, spliced to what the caller has. */
  private async *splice(state: FirstAttemptState, plan: Plan, firstUsage: UsageReading): AsyncGenerator<Uint8Array> {
    const result = plan.result!;
    const joiner: Splice =
      plan.mode === 'continue'
        ? new ContinuationJoiner(trailingBlanks(state.delivered.content))
        : new ReplayMatcher(state.delivered);
    const meter = (this.recoveryMeter = this.options.meter(true, plan.body));
    const reader = (this.reader = this.readerOf(result));
    const events = new SseEventReader();
    const identity = state.identity!;
    let roleSent = state.roleDelivered;
    let covered = false;
    let finished = false;
    for (;;) {
      const read = await reader.next(covered ? undefined : heartbeatMs(this.options.idleTimeoutMs));
      if (read.kind === 'tick') {
        yield HEARTBEAT;
        continue;
      }
      if (read.kind === 'end') break;
      const bytes = meter.push(read.bytes);
      if (bytes === undefined) continue;
      for (const event of events.push(bytes)) {
        if (event.data === undefined) continue;
        const parsed = readChatEvent(event.data);
        if (parsed.kind === 'done') {
          if (!finished) throw DIVERGED;
          yield* this.closing(identity, firstUsage);
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
    yield* this.closing(identity, firstUsage);
  }

  private *closing(identity: ChunkIdentity, firstUsage: UsageReading): Generator<Uint8Array> {
    const second = this.recoveryMeter!.finish({ estimate: true });
    this.total = sumUsage(firstUsage, second);
    this.markLast('served');
    if (this.options.callerAskedUsage) yield usageChunk(identity, this.total);
    yield DONE;
  }

  private readerOf(result: DispatchResult): AttemptReader {
    return new AttemptReader(result.response.body, attemptOf(result), this.options.idleTimeoutMs, this.options.now);
  }

  private markLast(outcome: AttemptRecord['outcome']): void {
    this.markBackend(this.current.backend.id, outcome);
  }

  /** Rewrites the outcome of the backend's latest attempt in the call's list. */
  private markBackend(backendId: string, outcome: AttemptRecord['outcome']): void {
    const attempts = [...this.options.attempts.get()];
    const i = attempts.findLastIndex((a) => a.backend === backendId);
    if (i >= 0) attempts[i] = { ...attempts[i]!, outcome };
    this.options.attempts.set(attempts);
  }
}

interface Plan {
  readonly mode: 'continue' | 'replay';
  readonly result: DispatchResult | undefined;
  readonly body: Record<string, unknown>;
  readonly prefillRefused: boolean;
}

const END: IteratorResult<Uint8Array> = Object.freeze({ done: true, value: undefined });
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
