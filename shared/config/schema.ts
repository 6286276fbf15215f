import { z } from 'zod';
import { backendUrlProblem } from './backend-url.js';

/**
 * The gateway's configuration schema — the single source of the config types. Validated once per
 * load (every problem reported at once), then frozen. Area fragments (resilience, scheduling, usage,
 * governance, async) live beside this file and are composed here.
 *
 * Compatibility: field names are a public contract documented in `docs/configuration.md`.
 */

const idSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'an id is 1-128 characters: letters, digits, ".", "_", "-"');

/** A secret given inline (local development) or by environment variable name (preferred). */
const secretRef = z
  .object({ value: z.string().min(1).optional(), env: z.string().min(1).optional() })
  .strict()
  .refine((s) => (s.value === undefined) !== (s.env === undefined), 'give exactly one of "value" or "env"');

export const backendAuthSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('none') }).strict(),
  /** The caller's own credential headers are forwarded as they are. */
  z.object({ type: z.literal('passthrough') }).strict(),
  z.object({ type: z.literal('api-key'), header: z.string().default('api-key'), key: secretRef }).strict(),
  z.object({ type: z.literal('bearer'), token: secretRef }).strict(),
  z
    .object({
      type: z.literal('managed-identity'),
      audience: z.string().default('https://cognitiveservices.azure.com/.default'),
      clientId: z.string().optional(),
    })
    .strict(),
]);

export const timeoutsSchema = z
  .object({
    /** TCP/TLS connect. */
    connectMs: z.number().int().positive().optional(),
    /** From request sent to response headers (a silent backend is abandoned here and the call fails over). */
    firstByteMs: z.number().int().positive().optional(),
    /** Longest gap between two body chunks of a response (a stalled stream ends with an SSE error event). */
    idleMs: z.number().int().positive().optional(),
    /** Whole attempt, headers and body. */
    totalMs: z.number().int().positive().optional(),
  })
  .strict();

/** A backend's active health probe; fields left out take `resilience.probe`'s values. */
export const probeSchema = z
  .object({
    path: z.string().startsWith('/'),
    method: z.enum(['GET', 'POST', 'HEAD']).optional(),
    intervalMs: z.number().int().min(1000).optional(),
    timeoutMs: z.number().int().positive().optional(),
    /** Statuses that mean healthy; empty = any 2xx. */
    expectStatus: z.array(z.number().int().min(100).max(599)).optional(),
    body: z.string().optional(),
  })
  .strict();

export const backendSchema = z
  .object({
    id: idSchema,
    url: z.url({ protocol: /^https?$/ }),
    /** The backend's API: decides how OpenAI- and Azure-shaped calls are written for it. */
    kind: z.enum(['openai', 'azure-openai', 'anthropic', 'gemini', 'http']).default('openai'),
    /** Azure OpenAI `api-version` used when the caller did not send one (or when translating an OpenAI call). */
    apiVersion: z.string().optional(),
    auth: backendAuthSchema.default({ type: 'none' }),
    /** Model (OpenAI) or deployment (Azure) rewrite: name the caller asked for → name this backend serves. */
    models: z.record(z.string(), z.string()).default({}),
    /** Relative share in weighted-random selection; 0 drains the backend (never selected). */
    weight: z.number().nonnegative().default(1),
    /** Priority group name; groups are tried in the pool's `groupOrder` (e.g. "ptu" before "payg"). */
    group: z.string().default('default'),
    /** Concurrent calls this backend is given (the scheduler's capacity). */
    maxConcurrency: z.number().int().positive().default(100),
    timeouts: timeoutsSchema.default({}),
    probe: probeSchema.optional(),
    /** Extra headers sent to this backend. */
    headers: z.record(z.string(), z.string()).default({}),
    /**
     * The backend continues a final assistant message as the start of its answer (Anthropic; prefix-capable
     * OpenAI-compatible servers): stream recovery may finish a broken answer there by prefill.
     */
    continuePrefill: z.boolean().default(false),
  })
  .strict()
  .superRefine((backend, ctx) => {
    const problem = backendUrlProblem(backend.kind, backend.url);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', path: ['url'], message: problem });
  });

export const poolMemberSchema = z.union([
  idSchema,
  z.object({ backend: idSchema, weight: z.number().nonnegative().optional(), group: z.string().optional() }).strict(),
]);

export const poolSchema = z
  .object({
    id: idSchema,
    backends: z.array(poolMemberSchema).min(1),
    /** Group order; defaults to the order groups first appear in `backends`. */
    groupOrder: z.array(z.string()).optional(),
    loadBalancing: z.enum(['weighted-random', 'round-robin', 'lowest-latency']).optional(),
  })
  .strict();

export const routeMatchSchema = z
  .object({
    /** Model names (OpenAI `model`, Azure deployment name); a trailing `*` matches a prefix. */
    models: z.array(z.string().min(1)).optional(),
    /** A plain HTTP path prefix (any API). */
    pathPrefix: z.string().startsWith('/').optional(),
  })
  .strict()
  .refine(
    (m) => (m.models === undefined) !== (m.pathPrefix === undefined),
    'a route matches either "models" or "pathPrefix"',
  );

export const routeSchema = z
  .object({
    id: idSchema,
    match: routeMatchSchema,
    pool: idSchema,
    /** Routes (other models) to use, in order, when this route's pool is exhausted. */
    fallbacks: z.array(idSchema).default([]),
    /**
     * Routes whose models take longer prompts, tried in order when a backend refuses the prompt as too long
     * (`context_length_exceeded` and its Azure/Anthropic/Gemini equivalents). Empty: `fallbacks` are tried.
     */
    contextWindowFallbacks: z.array(idSchema).default([]),
    /** Path-prefix routes: strip the prefix before forwarding. */
    stripPrefix: z.boolean().default(true),
    /** Rewrite the model sent upstream (e.g. a fallback route serving another model). */
    model: z.string().optional(),
    timeouts: timeoutsSchema.default({}),
    /**
     * A streamed chat completion cut after its first byte is finished on another backend: `auto` continues it
     * by prefill where the backend can (`continuePrefill`) and replays it elsewhere; `replay` never prefills;
     * `off` ends it with the terminal error event.
     */
    streamRecovery: z.enum(['auto', 'replay', 'off']).default('auto'),
  })
  .strict();

export const serverSchema = z
  .object({
    host: z.string().default('0.0.0.0'),
    port: z.number().int().min(0).max(65_535).default(8000),
    /** `production` refuses to start without caller identity unless anonymous access is allowed. */
    mode: z.enum(['development', 'production']).default('development'),
    /**
     * Shutdown drain (SIGTERM, Functions host shutdown): how long calls in flight may take to finish before
     * open answers are cut and in-process jobs are handed back to their queue.
     */
    shutdownGraceMs: z.number().int().min(0).max(600_000).default(30_000),
  })
  .strict();

/**
 * Default largest request body: 80 MiB. OpenAI takes up to 50 MB of image bytes per request (20 MB per
 * image), which is ~67 MB once base64-encoded in JSON; the Functions host refuses bodies over 100 MB
 * (ADR 0029).
 */
export const DEFAULT_MAX_BODY_BYTES = 80 * 1024 * 1024;
/** Default total of request bodies buffered across the calls in flight: 256 MiB (ADR 0029). */
export const DEFAULT_MAX_BUFFERED_BODY_BYTES = 256 * 1024 * 1024;

export const limitsSchema = z
  .object({
    maxBodyBytes: z.number().int().positive().default(DEFAULT_MAX_BODY_BYTES),
    /** The total of request bodies held at once by the calls in flight; past it a call gets a 503. */
    maxBufferedBodyBytes: z.number().int().positive().default(DEFAULT_MAX_BUFFERED_BODY_BYTES),
    maxHeaderBytes: z
      .number()
      .int()
      .positive()
      .default(32 * 1024),
  })
  .strict()
  .refine((l) => l.maxBufferedBodyBytes >= l.maxBodyBytes, {
    message: 'maxBufferedBodyBytes must be >= maxBodyBytes (a largest body must fit)',
    path: ['maxBufferedBodyBytes'],
  });

export const headersSchema = z
  .object({
    /** Request headers never forwarded to a backend (in addition to hop-by-hop, `S7P*` and `X-MS-CLIENT*`). */
    stripRequest: z.array(z.string()).default([]),
    /** Response headers removed before the caller sees them. */
    stripResponse: z.array(z.string()).default([]),
  })
  .strict();

/** Backend affinity for server-side state (Responses API responses, files, threads, batches). */
export const affinitySchema = z
  .object({
    /** How long a state id stays pinned to the backend that created it (OpenAI keeps responses 30 days). */
    ttlMs: z
      .number()
      .int()
      .positive()
      .default(30 * 24 * 60 * 60 * 1000),
    /** Mappings kept by the in-process store (the oldest is dropped beyond it). */
    maxEntries: z.number().int().positive().default(100_000),
  })
  .strict();

/** The root schema. Area fragments are merged in by `gateway-schema.ts`. */
export const baseGatewaySchema = z
  .object({
    server: serverSchema.prefault({}),
    limits: limitsSchema.prefault({}),
    headers: headersSchema.default({ stripRequest: [], stripResponse: [] }),
    backends: z.array(backendSchema).default([]),
    pools: z.array(poolSchema).default([]),
    routes: z.array(routeSchema).default([]),
    affinity: affinitySchema.prefault({}),
  })
  .strict();

export type BackendConfig = z.output<typeof backendSchema>;
export type PoolConfig = z.output<typeof poolSchema>;
export type RouteConfig = z.output<typeof routeSchema>;
export type TimeoutsConfig = z.output<typeof timeoutsSchema>;
export type BackendAuthConfig = z.output<typeof backendAuthSchema>;
export type ProbeConfig = z.output<typeof probeSchema>;
