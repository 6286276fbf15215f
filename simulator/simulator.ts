import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AttemptLog, type AttemptOutcome, type SimAttempt } from './attempt-log.js';
import type { ConcurrencyMeter } from './concurrency-meter.js';
import { errorBody, type ErrorReason } from './error-body.js';
import { FaultBook, type RequestRule } from './fault-book.js';
import type { FaultSpec } from './fault-spec.js';
import type { Generation, Renderer, StreamShape } from './generation.js';
import {
  embeddingDimensions,
  endsWithAssistant,
  planGeneration,
  reportedModel,
  type GenerationPlan,
  type GenerationRequest,
  type GenerationSettings,
  type Pace,
} from './generation-plan.js';
import { anthropicRenderer } from './render-anthropic.js';
import { chatRenderer } from './render-chat.js';
import { completionsRenderer } from './render-completions.js';
import { embeddingsBody } from './render-embeddings.js';
import { geminiRenderer } from './render-gemini.js';
import { createResponsesRenderer, responseObject, type ResponseMeta } from './render-responses.js';
import { ResponseStore } from './response-store.js';
import { matchRoute, type Route } from './route-table.js';
import { compileFaults, parseSimulatorConfig, type SimulatorConfig } from './simulator-config.js';
import {
  authorized,
  gone,
  headersOf,
  NO_BODY,
  readBody,
  readJsonBody,
  requestedModel,
  requestFaultRule,
  splitTarget,
} from './sim-request.js';
import { countPromptTokens, type ApiKind } from './token-count.js';

/** Start options: the runtime-replaceable {@link SimulatorConfig} plus what is fixed for the instance's life. */
export interface SimulatorOptions extends SimulatorConfig {
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number;
  /** Address to bind (default `127.0.0.1`). */
  host?: string;
  /** Instance name, sent as `x-sim-instance` on every response (default `sim`). */
  name?: string;
  /** Keep the attempts log (default true); off for benchmarks. */
  recordAttempts?: boolean;
  /** Size of the attempts ring (default 10,000). */
  maxAttempts?: number;
  /** Responses API objects kept for `GET /v1/responses/{id}` (default 10,000). */
  maxStoredResponses?: number;
  /** Models listed by `GET /v1/models`. */
  models?: readonly string[];
  /**
   * The clock for fault windows, background responses and timestamps (ms since the epoch; default `Date.now`). Delays
   * always use real timers.
   */
  now?: () => number;
  /** Counts the requests in progress (control requests excluded); share one between a pool's backends. */
  meter?: ConcurrencyMeter;
}

/** A simulator that is listening. */
export interface RunningSimulator {
  /** Base URL, e.g. `http://127.0.0.1:54321` (no trailing slash). */
  readonly url: string;
  readonly port: number;
  readonly name: string;
  /** The attempts seen since start or the last reset, oldest first. Entries are live until their outcome is known. */
  attempts(): SimAttempt[];
  /**
   * Resolves once `count` requests (control requests excluded) have arrived since start or the last
   * reset — an event to await instead of sleeping. Rejects after `timeoutMs` (default 5,000) or on close.
   */
  waitForAttempts(count: number, timeoutMs?: number): Promise<SimAttempt[]>;
  /**
   * Holds every request that arrives from now on, after its latency and before it answers, until the
   * returned function is called: keeps a pool saturated for as long as a test looks at it, instead of
   * guessing a latency longer than the test's own steps. A later `hold()` takes over new arrivals.
   */
  hold(): () => void;
  /** Clears the attempts, fault counters, stored responses, and restarts fault windows now. Keeps the config. */
  reset(): void;
  /**
   * Replaces the runtime config (fields left out fall back to the start options) and restarts fault windows now.
   * @throws {FaultSpecError}
   */
  configure(config: SimulatorConfig): void;
  /** Stops listening and destroys every connection, including held and stalled ones. */
  close(): Promise<void>;
}

/** The effective runtime settings. */
interface Settings extends GenerationSettings {
  readonly faults: readonly FaultSpec[];
  readonly apiKey: string | null;
}

/** One request the simulator answers, as read before its faults are resolved. */
interface Call {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly route: Route | null;
  readonly api: ApiKind | null;
  readonly params: URLSearchParams | null;
  readonly body: Record<string, unknown>;
  /** The model the request names, its fault suffix (`gpt-4o;503`) apart. */
  readonly model: string | null;
  readonly modelSpec: string | null;
  readonly stream: boolean;
  /** Null when the simulator keeps no attempts log (benchmarks). */
  readonly attempt: SimAttempt | null;
}

/** A Responses API request with `background: true`: answered `queued` at once, no latency, no hold. */
const isBackground = (call: Call): boolean => call.api === 'responses' && call.body.background === true;

/** The renderer of each API that has a fixed one (Responses builds one per request; embeddings have none). */
const RENDERERS: Readonly<Partial<Record<ApiKind, Renderer>>> = {
  chat: chatRenderer,
  completions: completionsRenderer,
  anthropic: anthropicRenderer,
  gemini: geminiRenderer,
};

interface Waiter {
  readonly count: number;
  readonly resolve: (attempts: SimAttempt[]) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

const JSON_TYPE = 'application/json';
const EMPTY_SPEC: FaultSpec = Object.freeze({});
const DEFAULT_MODELS = [
  'gpt-4o',
  'gpt-4o-mini',
  'gpt-4.1',
  'o4-mini',
  'text-embedding-3-small',
  'claude-sonnet-4-5',
  'gemini-2.5-flash',
] as const;
const ID_PREFIX: Readonly<Record<ApiKind, string>> = {
  chat: 'chatcmpl-',
  completions: 'cmpl-',
  embeddings: 'emb-',
  responses: 'resp_',
  anthropic: 'msg_',
  gemini: 'gen-',
};
const CONFIG_KEYS = [
  'faults',
  'apiKey',
  'latencyMs',
  'firstTokenDelayMs',
  'tokensPerSecond',
  'defaultCompletionTokens',
  'embeddingDimensions',
  'servedModel',
  'continuePrefill',
] as const satisfies readonly (keyof SimulatorConfig)[];

/** Start-option config fields with `undefined` ones dropped, so that they do not shadow defaults. */
function definedConfig(source: SimulatorConfig): SimulatorConfig {
  const out: Record<string, unknown> = {};
  for (const key of CONFIG_KEYS) if (source[key] !== undefined) out[key] = source[key];
  return out as SimulatorConfig;
}

function settingsOf(config: SimulatorConfig): Settings {
  return {
    faults: compileFaults(config.faults),
    apiKey: config.apiKey ?? null,
    latencyMs: config.latencyMs ?? 0,
    firstTokenDelayMs: config.firstTokenDelayMs ?? 0,
    tokensPerSecond: config.tokensPerSecond ?? 0,
    defaultCompletionTokens: config.defaultCompletionTokens ?? 16,
    embeddingDimensions: config.embeddingDimensions ?? 8,
    servedModel: config.servedModel ?? null,
    continuePrefill: config.continuePrefill ?? false,
  };
}

/** One listening simulator instance. */
class Simulator {
  readonly server: Server;
  private readonly startConfig: SimulatorConfig;
  private settings: Settings;
  private book: FaultBook;
  private readonly log: AttemptLog;
  private readonly store: ResponseStore;
  private readonly timers = new Set<NodeJS.Timeout>();
  private held: Promise<void> | undefined;
  private waiters: Waiter[] = [];
  private readonly idPrefix = randomBytes(4).toString('hex');
  private readonly modelsJson: string;
  private readonly now: () => number;
  private readonly record: boolean;
  private runtimeConfig: SimulatorConfig = {};
  private seen = 0;
  private idCounter = 0;
  private closed = false;

  constructor(
    readonly name: string,
    options: SimulatorOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.record = options.recordAttempts ?? true;
    this.startConfig = definedConfig(options);
    this.settings = settingsOf(this.startConfig);
    this.book = new FaultBook(this.settings.faults, this.now());
    this.log = new AttemptLog(options.maxAttempts ?? 10_000);
    this.store = new ResponseStore(options.maxStoredResponses ?? 10_000);
    this.modelsJson = JSON.stringify({
      object: 'list',
      data: (options.models ?? DEFAULT_MODELS).map((id) => ({
        id,
        object: 'model',
        created: 1_700_000_000,
        owned_by: 'simulator',
      })),
    });
    const meter = options.meter;
    this.server = createServer((req, res) => {
      if (meter !== undefined && !(req.url ?? '').startsWith('/_sim/')) {
        const leave = meter.enter();
        res.once('finish', leave);
        res.once('close', leave);
      }
      this.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent && !gone(res))
          this.sendJson(res, 500, errorBody(null, 500, 'status', `simulator failure: ${String(error)}`));
        else res.destroy();
      });
    });
  }

  attempts(): SimAttempt[] {
    return this.log.list();
  }

  waitForAttempts(count: number, timeoutMs = 5000): Promise<SimAttempt[]> {
    if (this.seen >= count) return Promise.resolve(this.attempts());
    if (this.closed) return Promise.reject(new Error('simulator closed'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.waiters = this.waiters.filter((w) => w.timer !== timer);
        reject(new Error(`simulator ${this.name}: ${this.seen} of ${count} attempts after ${timeoutMs} ms`));
      }, timeoutMs);
      this.timers.add(timer);
      this.waiters.push({ count, resolve, reject, timer });
    });
  }

  reset(): void {
    this.log.clear();
    this.seen = 0;
    this.store.clear();
    this.book.reset(this.now());
  }

  configure(config: SimulatorConfig): void {
    const merged = { ...this.startConfig, ...definedConfig(config) };
    const settings = settingsOf(merged);
    this.runtimeConfig = definedConfig(config);
    this.settings = settings;
    this.book = new FaultBook(settings.faults, this.now());
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const waiter of this.waiters) waiter.reject(new Error('simulator closed'));
    this.waiters = [];
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  hold(): () => void {
    let release = (): void => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.held = gate;
    return () => {
      if (this.held === gate) this.held = undefined;
      release();
    };
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }

  private noteArrival(): void {
    this.seen++;
    if (this.waiters.length === 0) return;
    const ready = this.waiters.filter((w) => this.seen >= w.count);
    if (ready.length === 0) return;
    this.waiters = this.waiters.filter((w) => this.seen < w.count);
    const list = this.attempts();
    for (const waiter of ready) {
      clearTimeout(waiter.timer);
      this.timers.delete(waiter.timer);
      waiter.resolve(list);
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const { path, query } = splitTarget(req.url ?? '/');
    if (path.startsWith('/_sim/')) return this.control(method, path, req, res);
    const route = matchRoute(method, path);
    const read = route && method === 'POST' ? await readJsonBody(req) : NO_BODY;
    if (read === 'gone') return;
    if (read === 'too-large') {
      res.shouldKeepAlive = false;
      this.noteArrival();
      this.sendJson(res, 413, errorBody(route?.action === 'generate' ? route.api : null, 413, 'too-large'));
      return;
    }
    const call = this.arrive(req, res, method, path, query, route, read.body);
    if (!route) return this.fail(call, 404, 'not-found', `No simulated endpoint for ${method} ${path}.`);
    let request: RequestRule | null;
    try {
      request = requestFaultRule(req, call.params, call.modelSpec);
    } catch (error) {
      return this.fail(call, 400, 'bad-fault-spec', `Bad simulator fault spec: ${(error as Error).message}`);
    }
    const settings = this.settings;
    if (settings.apiKey !== null && !authorized(req, call.params, settings.apiKey))
      return this.fail(call, 401, 'unauthorized');
    if (read.problem !== null) return this.fail(call, 400, 'invalid-request', read.problem);
    const resolved =
      this.book.empty && request === null
        ? null
        : this.book.resolve({ nowMs: this.now(), path, model: call.model, request });
    const spec = resolved?.spec ?? EMPTY_SPEC;
    if (call.attempt && resolved && resolved.text !== '') call.attempt.fault = resolved.text;
    const delayed = this.delay(call, spec, settings);
    if (delayed !== true && !(await delayed)) return;
    if (this.answerFault(call, spec)) return;
    return this.act(call, route, spec, settings);
  }

  /** Logs the attempt of a request that reached a route (or none) and wakes whoever waits for arrivals. */
  private arrive(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    path: string,
    query: string,
    route: Route | null,
    body: Record<string, unknown>,
  ): Call {
    const api = route?.action === 'generate' ? route.api : null;
    const { model, modelSpec } = requestedModel(route, body);
    const stream = route?.action === 'generate' && (route.pathStream ?? body.stream === true);
    const attempt: SimAttempt | null = this.record
      ? {
          seq: this.seen + 1,
          timeMs: this.now(),
          method,
          path,
          query,
          api,
          model,
          stream,
          headers: headersOf(req),
          fault: null,
          status: null,
          outcome: 'pending',
        }
      : null;
    if (attempt) this.log.push(attempt);
    this.noteArrival();
    const params = query === '' ? null : new URLSearchParams(query);
    return { req, res, route, api, params, body, model, modelSpec, stream, attempt };
  }

  /**
   * Waits out the latency and any hold (not for a background Responses request): `true` at once when there is
   * nothing to wait for — synchronously, so that a request without latency is answered in the tick it arrived
   * in, as before — otherwise a promise of whether the client is still there.
   */
  private delay(call: Call, spec: FaultSpec, settings: Settings): Promise<boolean> | true {
    const latencyMs = spec.latencyMs ?? settings.latencyMs;
    const held = this.held;
    if (isBackground(call) || (latencyMs <= 0 && held === undefined)) return true;
    return this.waitOut(call, latencyMs, held);
  }

  private async waitOut(call: Call, latencyMs: number, held: Promise<void> | undefined): Promise<boolean> {
    if (latencyMs > 0) {
      await this.sleep(latencyMs);
      if (gone(call.res)) return (finish(call.attempt, null, 'client-aborted'), false);
    }
    if (held !== undefined) {
      await held;
      if (gone(call.res)) return (finish(call.attempt, null, 'client-aborted'), false);
    }
    return true;
  }

  /** Answers the request-level faults (reset, hang, provider errors, a scripted status); true when it did. */
  private answerFault(call: Call, spec: FaultSpec): boolean {
    switch (spec.fault) {
      case 'reset': {
        finish(call.attempt, null, 'reset');
        const socket = call.req.socket;
        if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
        else socket.destroy();
        return true;
      }
      case 'hang':
        finish(call.attempt, null, 'hang');
        return true;
      case 'context-length':
      case 'content-filter':
        return (this.fail(call, 400, spec.fault, undefined, spec), true);
      case 'deployment-not-found':
        return (this.fail(call, 404, 'deployment-not-found', undefined, spec), true);
      case 'prefill-rejected':
        // Only a request that ends with an assistant message (a prefill) is refused; others are answered.
        if (endsWithAssistant(call.api, call.body))
          return (this.fail(call, 400, 'prefill-rejected', undefined, spec), true);
        break;
      default:
        break;
    }
    if (spec.status === undefined && spec.requeue !== true) return false;
    this.fail(call, spec.status ?? 429, 'status', undefined, spec);
    return true;
  }

  /** What the route does once no fault answered: the model list, a stored response, or a generation. */
  private act(call: Call, route: Route, spec: FaultSpec, settings: Settings): Promise<void> | void {
    const notFound = (id: string): void => this.fail(call, 404, 'not-found', `No response found with id '${id}'.`);
    switch (route.action) {
      case 'models':
        return this.sendBody(call.res, JSON_TYPE, this.modelsJson, spec, call.attempt, null);
      case 'response-get': {
        const found = this.store.get(route.id, this.now());
        if (!found) return notFound(route.id);
        return this.sendBody(call.res, JSON_TYPE, JSON.stringify(found), spec, call.attempt, route.id);
      }
      case 'response-delete': {
        if (!this.store.delete(route.id)) return notFound(route.id);
        const deleted = JSON.stringify({ id: route.id, object: 'response', deleted: true });
        return this.sendBody(call.res, JSON_TYPE, deleted, spec, call.attempt, route.id);
      }
      case 'generate':
        return this.generate(call, { route, body: call.body, params: call.params, model: call.model, spec, settings });
    }
  }

  /** An error answer in the route's API shape (Azure's where the route is Azure's). */
  private fail(
    call: Call,
    status: number,
    reason: ErrorReason,
    message?: string,
    spec: FaultSpec = EMPTY_SPEC,
    param: string | null = null,
  ): void {
    const azure = call.route?.action === 'generate' && call.route.azure;
    this.sendError(call.res, call.api, status, reason, spec, call.attempt, message, param, azure);
  }

  private async generate(call: Call, request: GenerationRequest): Promise<void> {
    const { route, body, spec } = request;
    const previous = body.previous_response_id;
    if (route.api === 'responses' && typeof previous === 'string' && !this.store.has(previous)) {
      return this.fail(call, 400, 'previous-response-not-found', `Previous response with id '${previous}' not found.`);
    }
    const nowMs = this.now();
    const id = `${ID_PREFIX[route.api]}${this.idPrefix}${(++this.idCounter).toString(16).padStart(8, '0')}`;
    if (route.api === 'embeddings') {
      const json = embeddingsBody({
        model: reportedModel(request),
        input: body.input,
        dimensions: embeddingDimensions(request),
        promptTokens: countPromptTokens('embeddings', body),
        base64: body.encoding_format === 'base64',
      });
      return this.sendBody(call.res, JSON_TYPE, json, spec, call.attempt, id);
    }
    const planned = planGeneration(request, id, nowMs);
    if (!planned.ok) return this.fail(call, 400, 'invalid-request', planned.message, spec, planned.param);
    const { g, pace } = planned;
    const renderer = route.api === 'responses' ? this.responses(call, request, planned, nowMs) : RENDERERS[route.api];
    if (renderer === undefined) return;
    if (call.stream) return this.stream(call, renderer.stream(g), g, spec, pace);
    if (pace.generationMs > 0) {
      await this.sleep(pace.generationMs);
      if (gone(call.res)) return finish(call.attempt, null, 'client-aborted');
    }
    return this.sendBody(call.res, JSON_TYPE, renderer.json(g), spec, call.attempt, id);
  }

  /**
   * The Responses API's renderer; the response is stored first (ready when its work would be done, for a
   * background one). A background request is answered here, `queued`, and gets no renderer.
   */
  private responses(
    call: Call,
    { body, spec, settings }: GenerationRequest,
    { g, pace, maxTokens }: GenerationPlan & { ok: true },
    nowMs: number,
  ): Renderer | undefined {
    const background = isBackground(call);
    const previous = body.previous_response_id;
    const meta: ResponseMeta = {
      background,
      store: body.store !== false,
      previousResponseId: typeof previous === 'string' ? previous : null,
      instructions: typeof body.instructions === 'string' ? body.instructions : null,
      maxOutputTokens: maxTokens,
    };
    if (meta.store) {
      const workMs = background ? (spec.latencyMs ?? settings.latencyMs) + pace.generationMs : 0;
      this.store.put(g, meta, nowMs + workMs);
    }
    if (!background) return createResponsesRenderer(meta);
    this.sendBody(call.res, JSON_TYPE, JSON.stringify(responseObject(g, meta, 'queued')), spec, call.attempt, g.id);
    return undefined;
  }

  /** Writes a stream frame by frame, pacing tokens and injecting the scripted stream fault. */
  private async stream(call: Call, shape: StreamShape, g: Generation, spec: FaultSpec, pace: Pace): Promise<void> {
    const { res, attempt } = call;
    res.writeHead(200, [
      'content-type',
      shape.contentType,
      'cache-control',
      'no-cache',
      'x-request-id',
      g.id,
      'x-sim-instance',
      this.name,
    ]);
    res.flushHeaders();
    if (attempt) attempt.status = 200;
    if (pace.firstTokenDelayMs > 0) {
      await this.sleep(pace.firstTokenDelayMs);
      if (gone(res)) return finish(attempt, 200, 'client-aborted');
    }
    const stops = streamStops(spec, g.completionTokens);
    // Unpaced, the whole stream is written in the tick it started in; paced, one write per token.
    const written =
      pace.tokensPerSecond > 0
        ? await this.writePaced(res, shape, stops, pace.tokensPerSecond)
        : unpacedFrames(shape, stops);
    if (written === 'gone') return finish(attempt, 200, 'client-aborted');
    const fault = spec.fault;
    if (written.stopped) {
      if (fault === 'cut') {
        finish(attempt, 200, 'cut');
        if (written.pending !== '') res.write(written.pending, () => res.destroy());
        else res.destroy();
      } else {
        finish(attempt, 200, 'stall');
        if (written.pending !== '') res.write(written.pending);
      }
      return;
    }
    res.end(written.pending + shape.close + (fault !== 'no-done' ? shape.done : ''));
    finish(attempt, 200, fault === 'malformed' ? 'malformed' : fault === 'no-done' ? 'no-done' : 'ok');
  }

  /**
   * Writes a paced stream's tokens, one write per token, up to the token a `cut` or `stall` stops before (the
   * `malformed` frame goes in before its token). Returns what is still to write and whether the fault stopped
   * the stream, or `'gone'` when the client left between tokens. {@link unpacedFrames} is the same without pace.
   */
  private async writePaced(
    res: ServerResponse,
    shape: StreamShape,
    { n, stopAt, malformedAt }: StreamStops,
    tokensPerSecond: number,
  ): Promise<WrittenFrames | 'gone'> {
    const intervalMs = 1000 / tokensPerSecond;
    const startMs = performance.now();
    let pending = shape.open;
    for (let i = 0; i <= n; i++) {
      if (i === malformedAt) pending += shape.malformed;
      if (i === stopAt) return { pending, stopped: true };
      if (i === n) break;
      if (i > 0) {
        if (pending !== '') res.write(pending);
        pending = '';
        const waitMs = startMs + i * intervalMs - performance.now();
        // Below a millisecond a timer cannot pace; yielding to the event loop still sends each token in
        // its own write, so a fast paced stream reaches the caller in many reads as a real one does.
        if (waitMs >= 1) await this.sleep(waitMs);
        else await new Promise<void>((resolve) => setImmediate(resolve));
        if (gone(res)) return 'gone';
      }
      pending += shape.token(i);
    }
    return { pending, stopped: false };
  }

  /** A 200 body, subject to the body faults: `cut` and `stall` after half the bytes, `malformed` instead of it. */
  private sendBody(
    res: ServerResponse,
    contentType: string,
    body: string,
    spec: FaultSpec,
    attempt: SimAttempt | null,
    id: string | null,
  ): void {
    const fault = spec.fault;
    if (fault === 'malformed') body = '{not json';
    const headers = [
      'content-type',
      contentType,
      'content-length',
      String(Buffer.byteLength(body)),
      'x-sim-instance',
      this.name,
    ];
    if (id !== null) headers.push('x-request-id', id);
    res.writeHead(200, headers);
    if (fault === 'cut' || fault === 'stall') {
      const part = body.slice(0, body.length >> 1);
      if (fault === 'cut') {
        finish(attempt, 200, 'cut');
        res.write(part, () => res.destroy());
      } else {
        finish(attempt, 200, 'stall');
        res.write(part);
      }
      return;
    }
    res.end(body);
    finish(attempt, 200, fault === 'malformed' ? 'malformed' : 'ok');
  }

  private sendError(
    res: ServerResponse,
    api: ApiKind | null,
    status: number,
    reason: ErrorReason,
    spec: FaultSpec,
    attempt: SimAttempt | null,
    message?: string,
    param: string | null = null,
    azure = false,
  ): void {
    const body = errorBody(api, status, reason, message, param, azure);
    const headers = [
      'content-type',
      JSON_TYPE,
      'content-length',
      String(Buffer.byteLength(body)),
      'x-sim-instance',
      this.name,
    ];
    if (spec.retryAfterDateSeconds !== undefined)
      headers.push('retry-after', new Date(this.now() + spec.retryAfterDateSeconds * 1000).toUTCString());
    else if (spec.retryAfterSeconds !== undefined) headers.push('retry-after', String(spec.retryAfterSeconds));
    if (spec.retryAfterMs !== undefined) headers.push('retry-after-ms', String(spec.retryAfterMs));
    if (spec.xMsRetryAfterMs !== undefined) headers.push('x-ms-retry-after-ms', String(spec.xMsRetryAfterMs));
    if (spec.requeue === true) headers.push('S7PREQUEUE', 'true');
    res.writeHead(status, headers);
    res.end(body);
    finish(attempt, status, 'error');
  }

  private sendJson(res: ServerResponse, status: number, body: string): void {
    res.writeHead(status, [
      'content-type',
      JSON_TYPE,
      'content-length',
      String(Buffer.byteLength(body)),
      'x-sim-instance',
      this.name,
    ]);
    res.end(body);
  }

  private async control(method: string, path: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const op = `${method} ${path.endsWith('/') ? path.slice(0, -1) : path}`;
    switch (op) {
      case 'GET /_sim/health':
        return this.sendJson(res, 200, JSON.stringify({ status: 'ok', name: this.name }));
      case 'GET /_sim/attempts':
        return this.sendJson(res, 200, JSON.stringify(this.attempts()));
      case 'POST /_sim/reset':
        this.reset();
        return this.sendJson(res, 200, JSON.stringify({ ok: true }));
      case 'GET /_sim/config':
        return this.sendJson(res, 200, JSON.stringify(this.runtimeConfig));
      case 'POST /_sim/config': {
        const text = await readBody(req);
        if (text === undefined) return;
        try {
          if (text === null) throw new Error('config too large');
          const config = parseSimulatorConfig(text.trim() === '' ? {} : JSON.parse(text));
          this.configure(config);
          return this.sendJson(res, 200, JSON.stringify(this.runtimeConfig));
        } catch (error) {
          return this.sendJson(
            res,
            400,
            JSON.stringify({
              error: {
                message: (error as Error).message,
                type: 'invalid_request_error',
                param: null,
                code: 'sim_bad_config',
              },
            }),
          );
        }
      }
      default:
        return this.sendJson(res, 404, errorBody(null, 404, 'not-found', `No control endpoint ${op}.`));
    }
  }
}

/** Where a stream's fault strikes: the token a `cut` or `stall` stops before, the one `malformed` goes before. */
interface StreamStops {
  /** The tokens of the stream. */
  readonly n: number;
  readonly stopAt: number;
  readonly malformedAt: number;
}

/** Frames not yet written, and whether the stream's fault stopped it there. */
interface WrittenFrames {
  readonly pending: string;
  readonly stopped: boolean;
}

function streamStops(spec: FaultSpec, n: number): StreamStops {
  const after = Math.min(spec.afterTokens ?? 1, n);
  return {
    n,
    stopAt: spec.fault === 'cut' || spec.fault === 'stall' ? after : -1,
    malformedAt: spec.fault === 'malformed' ? after : -1,
  };
}

/** An unpaced stream's frames up to its end or the fault's stop, in one string (see `writePaced`). */
function unpacedFrames(shape: StreamShape, { n, stopAt, malformedAt }: StreamStops): WrittenFrames {
  let pending = shape.open;
  for (let i = 0; i <= n; i++) {
    if (i === malformedAt) pending += shape.malformed;
    if (i === stopAt) return { pending, stopped: true };
    if (i === n) break;
    pending += shape.token(i);
  }
  return { pending, stopped: false };
}

function finish(attempt: SimAttempt | null, status: number | null, outcome: AttemptOutcome): void {
  if (!attempt) return;
  attempt.status = status;
  attempt.outcome = outcome;
}

/**
 * Starts a simulated AI backend (OpenAI, Azure OpenAI, Anthropic and Gemini shapes) with scripted faults.
 *
 * @example
 * const sim = await startSimulator({ name: 'ptu-1', faults: ['503;times=2'] });
 * const res = await fetch(`${sim.url}/v1/chat/completions`, {
 *   method: 'POST',
 *   headers: { 'content-type': 'application/json', 'x-sim-fault': '429;retry-after-ms=200' },
 *   body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Hi' }] }),
 * });
 * await sim.close();
 */
export async function startSimulator(options: SimulatorOptions = {}): Promise<RunningSimulator> {
  const name = options.name ?? 'sim';
  const host = options.host ?? '127.0.0.1';
  const sim = new Simulator(name, options);
  await new Promise<void>((resolve, reject) => {
    sim.server.once('error', reject);
    sim.server.listen(options.port ?? 0, host, () => {
      sim.server.off('error', reject);
      resolve();
    });
  });
  const port = (sim.server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return {
    url,
    port,
    name,
    attempts: () => sim.attempts(),
    waitForAttempts: (count, timeoutMs) => sim.waitForAttempts(count, timeoutMs),
    hold: () => sim.hold(),
    reset: () => sim.reset(),
    configure: (config) => sim.configure(config),
    close: () => sim.close(),
  };
}

export type { SimAttempt } from './attempt-log.js';
export type { SimulatorConfig } from './simulator-config.js';
export type { FaultSpec } from './fault-spec.js';
