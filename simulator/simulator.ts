import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AttemptLog, type AttemptOutcome, type SimAttempt } from './attempt-log.js';
import { planChatAnswer, planResponsesAnswer, type PlanResult } from './answer-plan.js';
import type { ConcurrencyMeter } from './concurrency-meter.js';
import { errorBody, type ErrorReason } from './error-body.js';
import { FaultBook, type RequestRule } from './fault-book.js';
import { parseFaultSpec, splitModelSpec } from './fault-grammar.js';
import { formatFaultSpec, type FaultSpec } from './fault-spec.js';
import type { Generation, Renderer, StreamShape } from './generation.js';
import { anthropicRenderer } from './render-anthropic.js';
import { chatRenderer } from './render-chat.js';
import { completionsRenderer } from './render-completions.js';
import { embeddingsBody } from './render-embeddings.js';
import { geminiRenderer } from './render-gemini.js';
import { createResponsesRenderer, responseObject, type ResponseMeta } from './render-responses.js';
import { ResponseStore } from './response-store.js';
import { matchRoute, type GenerateRoute } from './route-table.js';
import { compileFaults, parseSimulatorConfig, type SimulatorConfig } from './simulator-config.js';
import { continuedTokens, countPromptTokens, type ApiKind } from './token-count.js';

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
interface Settings {
  readonly faults: readonly FaultSpec[];
  readonly apiKey: string | null;
  readonly latencyMs: number;
  readonly firstTokenDelayMs: number;
  readonly tokensPerSecond: number;
  readonly defaultCompletionTokens: number;
  readonly embeddingDimensions: number;
  readonly servedModel: string | null;
  readonly continuePrefill: boolean;
}

interface Waiter {
  readonly count: number;
  readonly resolve: (attempts: SimAttempt[]) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

const MAX_BODY_BYTES = 32 * 1024 * 1024;
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

/** The request has gone: the client closed the socket or the simulator destroyed it. */
function gone(res: ServerResponse): boolean {
  return res.destroyed || res.socket === null || res.socket.destroyed;
}

/** Reads the body up to a bound; `null` when too large, `undefined` when the client went away first. */
function readBody(req: IncomingMessage): Promise<string | null | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    req.on('data', (chunk: Buffer) => {
      if (settled) return;
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        settled = true;
        resolve(null);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (settled) return;
      settled = true;
      resolve(
        chunks.length === 1 ? (chunks[0] as Buffer).toString('utf8') : Buffer.concat(chunks, size).toString('utf8'),
      );
    });
    req.on('close', () => {
      if (settled) return;
      settled = true;
      resolve(undefined);
    });
    req.on('error', (error) => {
      if (settled) return;
      settled = true;
      reject(error);
    });
  });
}

/** The answer plan of a chat or Responses request (`n`, tools, JSON); other APIs answer plain text. */
function planAnswer(api: ApiKind, body: Record<string, unknown>, tokens: number): PlanResult {
  if (api === 'chat') return planChatAnswer(body, tokens);
  if (api === 'responses') return planResponsesAnswer(body, tokens);
  return { ok: true, plan: null };
}

function positiveInt(value: unknown): number | null {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : null;
}

function maxTokensOf(api: ApiKind, body: Record<string, unknown>): number | null {
  switch (api) {
    case 'chat':
      return positiveInt(body.max_completion_tokens) ?? positiveInt(body.max_tokens);
    case 'completions':
    case 'anthropic':
      return positiveInt(body.max_tokens);
    case 'responses':
      return positiveInt(body.max_output_tokens);
    case 'gemini': {
      const config = body.generationConfig;
      return typeof config === 'object' && config !== null
        ? positiveInt((config as Record<string, unknown>).maxOutputTokens)
        : null;
    }
    case 'embeddings':
      return null;
  }
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
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const path = q < 0 ? rawUrl : rawUrl.slice(0, q);
    const query = q < 0 ? '' : rawUrl.slice(q + 1);
    if (path.startsWith('/_sim/')) return this.control(method, path, req, res);

    const route = matchRoute(method, path);
    let body: Record<string, unknown> = {};
    let bodyProblem: string | null = null;
    if (route && method === 'POST') {
      const text = await readBody(req);
      if (text === undefined) return;
      if (text === null) {
        res.shouldKeepAlive = false;
        this.noteArrival();
        this.sendJson(res, 413, errorBody(route.action === 'generate' ? route.api : null, 413, 'too-large'));
        return;
      }
      if (text.trim() !== '') {
        try {
          const parsed: unknown = JSON.parse(text);
          if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed))
            body = parsed as Record<string, unknown>;
          else bodyProblem = 'The request body must be a JSON object.';
        } catch {
          bodyProblem = 'We could not parse the JSON body of your request.';
        }
      }
    }
    const api = route?.action === 'generate' ? route.api : null;
    const params = query === '' ? null : new URLSearchParams(query);

    let model: string | null = null;
    let modelSpec: string | null = null;
    if (route?.action === 'generate') {
      const requested = typeof body.model === 'string' && body.model !== '' ? body.model : route.pathModel;
      if (requested !== null) {
        const split = splitModelSpec(requested);
        model = split.model;
        modelSpec = split.spec;
      }
    }
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

    const respondError = (
      status: number,
      reason: ErrorReason,
      message?: string,
      spec: FaultSpec = EMPTY_SPEC,
      param: string | null = null,
    ): void => {
      this.sendError(
        res,
        api,
        status,
        reason,
        spec,
        attempt,
        message,
        param,
        route?.action === 'generate' && route.azure,
      );
    };

    if (!route) return respondError(404, 'not-found', `No simulated endpoint for ${method} ${path}.`);

    let request: RequestRule | null = null;
    const headerSpec = req.headers['x-sim-fault'];
    const querySpec = params?.get('sim-fault') ?? null;
    if (headerSpec !== undefined || modelSpec !== null || querySpec !== null) {
      try {
        const spec: FaultSpec = {};
        if (querySpec !== null) Object.assign(spec, parseFaultSpec(querySpec));
        if (modelSpec !== null) Object.assign(spec, parseFaultSpec(modelSpec));
        if (headerSpec !== undefined)
          Object.assign(spec, parseFaultSpec(Array.isArray(headerSpec) ? headerSpec.join(';') : headerSpec));
        request = { spec, text: formatFaultSpec(spec) };
      } catch (error) {
        return respondError(400, 'bad-fault-spec', `Bad simulator fault spec: ${(error as Error).message}`);
      }
    }

    const settings = this.settings;
    if (settings.apiKey !== null && !authorized(req, params, settings.apiKey)) return respondError(401, 'unauthorized');
    if (bodyProblem !== null) return respondError(400, 'invalid-request', bodyProblem);

    const resolved =
      this.book.empty && request === null ? null : this.book.resolve({ nowMs: this.now(), path, model, request });
    const spec = resolved?.spec ?? EMPTY_SPEC;
    if (attempt && resolved && resolved.text !== '') attempt.fault = resolved.text;

    const background = api === 'responses' && body.background === true;
    const latencyMs = spec.latencyMs ?? settings.latencyMs;
    const held = this.held;
    if (latencyMs > 0 && !background) {
      await this.sleep(latencyMs);
      if (gone(res)) return finish(attempt, null, 'client-aborted');
    }
    if (held !== undefined && !background) {
      await held;
      if (gone(res)) return finish(attempt, null, 'client-aborted');
    }

    switch (spec.fault) {
      case 'reset': {
        finish(attempt, null, 'reset');
        const socket = req.socket;
        if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
        else socket.destroy();
        return;
      }
      case 'hang':
        finish(attempt, null, 'hang');
        return;
      case 'context-length':
        return respondError(400, 'context-length', undefined, spec);
      case 'content-filter':
        return respondError(400, 'content-filter', undefined, spec);
      case 'deployment-not-found':
        return respondError(404, 'deployment-not-found', undefined, spec);
      case 'prefill-rejected':
        // Only a request that ends with an assistant message (a prefill) is refused; others are answered.
        if (endsWithAssistant(api, body)) return respondError(400, 'prefill-rejected', undefined, spec);
        break;
      default:
        break;
    }
    if (spec.status !== undefined || spec.requeue === true)
      return respondError(spec.status ?? 429, 'status', undefined, spec);

    switch (route.action) {
      case 'models':
        return this.sendBody(res, JSON_TYPE, this.modelsJson, spec, attempt, null);
      case 'response-get': {
        const found = this.store.get(route.id, this.now());
        if (!found) return respondError(404, 'not-found', `No response found with id '${route.id}'.`);
        return this.sendBody(res, JSON_TYPE, JSON.stringify(found), spec, attempt, route.id);
      }
      case 'response-delete': {
        if (!this.store.delete(route.id))
          return respondError(404, 'not-found', `No response found with id '${route.id}'.`);
        return this.sendBody(
          res,
          JSON_TYPE,
          JSON.stringify({ id: route.id, object: 'response', deleted: true }),
          spec,
          attempt,
          route.id,
        );
      }
      case 'generate':
        return this.generate(
          route,
          body,
          params,
          model,
          stream,
          background,
          spec,
          settings,
          res,
          attempt,
          respondError,
        );
    }
  }

  private async generate(
    route: GenerateRoute,
    body: Record<string, unknown>,
    params: URLSearchParams | null,
    model: string | null,
    stream: boolean,
    background: boolean,
    spec: FaultSpec,
    settings: Settings,
    res: ServerResponse,
    attempt: SimAttempt | null,
    respondError: (status: number, reason: ErrorReason, message?: string, spec?: FaultSpec, param?: string) => void,
  ): Promise<void> {
    const api = route.api;
    const previous = body.previous_response_id;
    if (api === 'responses' && typeof previous === 'string' && !this.store.has(previous)) {
      return respondError(400, 'previous-response-not-found', `Previous response with id '${previous}' not found.`);
    }
    const nowMs = this.now();
    const promptTokens = countPromptTokens(api, body);
    const reportedModel = spec.servedModel ?? settings.servedModel ?? model ?? 'simulator';
    const id = `${ID_PREFIX[api]}${this.idPrefix}${(++this.idCounter).toString(16).padStart(8, '0')}`;

    if (api === 'embeddings') {
      const dimensions =
        spec.dimensions ??
        (positiveInt(body.dimensions) !== null
          ? Math.min(positiveInt(body.dimensions) as number, 4096)
          : settings.embeddingDimensions);
      const json = embeddingsBody({
        model: reportedModel,
        input: body.input,
        dimensions,
        promptTokens,
        base64: body.encoding_format === 'base64',
      });
      return this.sendBody(res, JSON_TYPE, json, spec, attempt, id);
    }

    // A server that continues a final assistant message picks the answer up where the prefill ends.
    const continued =
      settings.continuePrefill && endsWithAssistant(api, body) ? continuedTokens(lastMessageText(body)) : 0;
    const scripted = Math.max(0, (spec.completionTokens ?? settings.defaultCompletionTokens) - continued);
    const planned = planAnswer(api, body, scripted);
    if (!planned.ok) return respondError(400, 'invalid-request', planned.message, spec, planned.param);
    const answer = planned.plan;
    // A tool call or a JSON schema answer is as long as its text; `tokens=` scripts plain text and json_object.
    const perChoice = answer?.pieces?.length ?? scripted;
    const choices = answer?.choices ?? 1;
    const maxTokens = maxTokensOf(api, body);
    const truncated = maxTokens !== null && maxTokens < perChoice;
    const cachedTokens = Math.min(spec.cachedTokens ?? 0, promptTokens);
    const streamOptions = body.stream_options;
    const g: Generation = {
      id,
      createdS: Math.floor(nowMs / 1000),
      model: reportedModel,
      promptTokens,
      completionTokens: (truncated ? (maxTokens as number) : perChoice) * choices,
      cachedTokens,
      cacheWriteTokens: Math.min(spec.cacheWriteTokens ?? 0, promptTokens - cachedTokens),
      reasoningTokens: spec.reasoningTokens ?? 0,
      truncated,
      includeUsage:
        (api === 'chat' || api === 'completions') &&
        typeof streamOptions === 'object' &&
        streamOptions !== null &&
        (streamOptions as Record<string, unknown>).include_usage === true,
      azure: route.azure,
      sse: api !== 'gemini' || params?.get('alt') === 'sse',
      ...(answer === null ? {} : { answer }),
      tokenOffset: continued + (spec.textOffset ?? 0),
    };
    const tokensPerSecond = spec.tokensPerSecond ?? settings.tokensPerSecond;
    const firstTokenDelayMs = spec.firstTokenDelayMs ?? settings.firstTokenDelayMs;
    const generationMs = firstTokenDelayMs + (tokensPerSecond > 0 ? (g.completionTokens * 1000) / tokensPerSecond : 0);

    let renderer: Renderer;
    switch (api) {
      case 'chat':
        renderer = chatRenderer;
        break;
      case 'completions':
        renderer = completionsRenderer;
        break;
      case 'anthropic':
        renderer = anthropicRenderer;
        break;
      case 'gemini':
        renderer = geminiRenderer;
        break;
      case 'responses': {
        const meta: ResponseMeta = {
          background,
          store: body.store !== false,
          previousResponseId: typeof previous === 'string' ? previous : null,
          instructions: typeof body.instructions === 'string' ? body.instructions : null,
          maxOutputTokens: maxTokens,
        };
        if (meta.store) {
          const workMs = background ? (spec.latencyMs ?? settings.latencyMs) + generationMs : 0;
          this.store.put(g, meta, nowMs + workMs);
        }
        if (background)
          return this.sendBody(res, JSON_TYPE, JSON.stringify(responseObject(g, meta, 'queued')), spec, attempt, id);
        renderer = createResponsesRenderer(meta);
        break;
      }
    }

    if (stream) return this.stream(res, renderer.stream(g), g, spec, tokensPerSecond, firstTokenDelayMs, attempt);
    if (generationMs > 0) {
      await this.sleep(generationMs);
      if (gone(res)) return finish(attempt, null, 'client-aborted');
    }
    return this.sendBody(res, JSON_TYPE, renderer.json(g), spec, attempt, id);
  }

  /** Writes a stream frame by frame, pacing tokens and injecting the scripted stream fault. */
  private async stream(
    res: ServerResponse,
    shape: StreamShape,
    g: Generation,
    spec: FaultSpec,
    tokensPerSecond: number,
    firstTokenDelayMs: number,
    attempt: SimAttempt | null,
  ): Promise<void> {
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
    if (firstTokenDelayMs > 0) {
      await this.sleep(firstTokenDelayMs);
      if (gone(res)) return finish(attempt, 200, 'client-aborted');
    }
    const n = g.completionTokens;
    const fault = spec.fault;
    const after = Math.min(spec.afterTokens ?? 1, n);
    const stopAt = fault === 'cut' || fault === 'stall' ? after : -1;
    const malformedAt = fault === 'malformed' ? after : -1;
    const intervalMs = tokensPerSecond > 0 ? 1000 / tokensPerSecond : 0;
    const startMs = performance.now();
    let pending = shape.open;
    let stopped = false;
    for (let i = 0; i <= n; i++) {
      if (i === malformedAt) pending += shape.malformed;
      if (i === stopAt) {
        stopped = true;
        break;
      }
      if (i === n) break;
      if (intervalMs > 0 && i > 0) {
        if (pending !== '') res.write(pending);
        pending = '';
        const waitMs = startMs + i * intervalMs - performance.now();
        // Below a millisecond a timer cannot pace; yielding to the event loop still sends each token in
        // its own write, so a fast paced stream reaches the caller in many reads as a real one does.
        if (waitMs >= 1) await this.sleep(waitMs);
        else await new Promise<void>((resolve) => setImmediate(resolve));
        if (gone(res)) return finish(attempt, 200, 'client-aborted');
      }
      pending += shape.token(i);
    }
    if (stopped) {
      if (fault === 'cut') {
        finish(attempt, 200, 'cut');
        if (pending !== '') res.write(pending, () => res.destroy());
        else res.destroy();
      } else {
        finish(attempt, 200, 'stall');
        if (pending !== '') res.write(pending);
      }
      return;
    }
    pending += shape.close;
    if (fault !== 'no-done') pending += shape.done;
    res.end(pending);
    finish(attempt, 200, fault === 'malformed' ? 'malformed' : fault === 'no-done' ? 'no-done' : 'ok');
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

/** True for a chat request whose last message is the assistant's (a prefill to continue). */
function endsWithAssistant(api: ApiKind | null, body: Record<string, unknown>): boolean {
  if (api !== 'chat' || !Array.isArray(body.messages)) return false;
  const last: unknown = body.messages.at(-1);
  return typeof last === 'object' && last !== null && (last as Record<string, unknown>).role === 'assistant';
}

/** The text of the last message (string content, or the text parts of an array). */
function lastMessageText(body: Record<string, unknown>): string {
  const content = ((body.messages as unknown[]).at(-1) as Record<string, unknown>).content;
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((p) => (typeof p === 'object' && p !== null && 'text' in p ? String(p.text) : '')).join('');
}

function finish(attempt: SimAttempt | null, status: number | null, outcome: AttemptOutcome): void {
  if (!attempt) return;
  attempt.status = status;
  attempt.outcome = outcome;
}

function headersOf(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

function authorized(req: IncomingMessage, params: URLSearchParams | null, key: string): boolean {
  const h = req.headers;
  return (
    h['api-key'] === key ||
    h['x-api-key'] === key ||
    h['x-goog-api-key'] === key ||
    h.authorization === `Bearer ${key}` ||
    params?.get('key') === key
  );
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
