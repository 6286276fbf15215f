import type { Clock } from '../clock.js';
import type { UsageApi } from './usage-format.js';
import { emptyUsageReading, type UsageReading } from './usage-reading.js';

/** The schema version written in every record; bumped only for a breaking change. */
export const USAGE_RECORD_SCHEMA_VERSION = 1;

/**
 * How a request ended, as billed:
 * - `complete`: the backend answered in full (any status the backend chose, 4xx included).
 * - `cut`: the answer started but did not finish — the backend stream broke, or the gateway's shutdown drain
 *   ended it (`cutReason` says which); the tokens produced are billed.
 * - `caller_aborted`: the caller went away; the tokens produced until then are billed.
 * - `rejected`: the gateway refused before any backend work (auth, policy, quota, queue full, TTL).
 * - `failed`: every attempt failed before an answer started (exhausted, all open, timeout).
 */
export type UsageOutcome = 'complete' | 'cut' | 'caller_aborted' | 'rejected' | 'failed';

/** Who cut a `cut` call's answer: its backend, or the gateway's shutdown drain. */
export type UsageCutReason = 'backend' | 'shutdown';

/** How one backend attempt ended. */
export type UsageAttemptOutcome =
  'success' | 'http_error' | 'throttled' | 'timeout' | 'connect_error' | 'cut' | 'caller_aborted' | 'circuit_open';

/** One attempt at one backend. Failed attempts are recorded, never billed as completions. */
export interface UsageAttempt {
  /** Backend name from the config. */
  backend: string;
  /** Its priority group (e.g. `ptu`, `payg`), or null when ungrouped. */
  group: string | null;
  /** HTTP status the backend gave, or null when none (connect error, timeout before headers). */
  status: number | null;
  /** Duration of the attempt in milliseconds. */
  durationMs: number;
  outcome: UsageAttemptOutcome;
}

/** Who called. Missing parts are null (never empty strings). */
export interface UsageCaller {
  userId: string | null;
  appId: string | null;
  profileId: string | null;
  tier: string | null;
}

/** Durations of one request, in milliseconds. */
export interface UsageTimings {
  /** Time waiting in the priority scheduler. */
  queueWaitMs: number;
  /** Time from the request's arrival to the first response byte sent to the caller; null if none was sent. */
  ttfbMs: number | null;
  /** Time from arrival to the last byte (or the failure). */
  totalMs: number;
  /** Time the gateway itself added: total less backend time and queue wait. */
  overheadMs: number;
}

/**
 * One request's usage record — the wire format of the usage ledger (NDJSON lines, Table entities,
 * telemetry events) and of chargeback.
 *
 * Compatibility: this is a format we own and others parse. Within `schemaVersion` 1 fields are only ever
 * added (readers must ignore unknown fields); no field is renamed, retyped or given a new meaning. A breaking
 * change bumps `schemaVersion`, and readers keep reading every older version. `docs/usage.md` lists every field.
 */
export interface UsageRecord {
  schemaVersion: typeof USAGE_RECORD_SCHEMA_VERSION;
  /** The gateway's request id (`x-gateway-request-id`). */
  requestId: string;
  /** When the request arrived, epoch milliseconds (UTC). Ledgers index and query by this. */
  timestampMs: number;
  /** The same instant as ISO 8601 UTC, for humans and spreadsheets. */
  timestamp: string;
  caller: UsageCaller;
  /** Priority level (1 most urgent), or null if the request never got one. */
  priority: number | null;
  /** Name of the route that matched, or null. */
  route: string | null;
  /** API shape of the call. */
  api: UsageApi;
  /** True when the caller asked for a streamed response. */
  stream: boolean;
  /** The model or deployment the caller asked for. */
  modelRequested: string | null;
  /** The model that answered, as the backend named it (equals `tokens.servedModel`). */
  modelServed: string | null;
  /** The backend that produced the answer (the last attempt), or null when none did. */
  backend: { name: string; group: string | null } | null;
  attempts: {
    /** Attempts made, including any not listed in `items`. */
    count: number;
    /** Attempts in order (at most {@link MAX_RECORDED_ATTEMPTS}). */
    items: UsageAttempt[];
  };
  /** HTTP status the caller received. */
  httpStatus: number;
  outcome: UsageOutcome;
  /**
   * Why a `cut` call was cut: `backend` (its stream broke, stalled or sent an error event) or `shutdown` (the
   * gateway's shutdown grace period ended first; the stream ended with `GW_ERR_SERVICE_SHUTTING_DOWN`). Null for
   * every other outcome.
   */
  cutReason: UsageCutReason | null;
  timings: UsageTimings;
  /** Tokens of the answered attempt only, with their sources. */
  tokens: UsageReading;
  /** True when the gateway injected `stream_options.include_usage` (and hid the usage chunk). */
  includeUsageInjected: boolean;
  /** The async job id when the call ran as a job, else null. */
  asyncJobId: string | null;
  /**
   * The scheduler's grant: which capacity group served the call and why (`free`, `reserved`, `spill`,
   * `aged`), or null when the call never got a lease (rejected before scheduling).
   */
  grant: { group: string; reason: string } | null;
  /** True when the stream broke and the gateway finished the answer on another backend (`recovery`). */
  recovered: boolean;
  /** The stream recovery, when one ran; null otherwise. `tokens` is then the sum of its attempts. */
  recovery: UsageRecovery | null;
}

/**
 * A stream recovery (`docs/resilience.md` §5): the answer's stream broke after its first byte and the gateway
 * finished it on another backend (`recovered`), or tried to.
 */
export interface UsageRecovery {
  /** `continue` (assistant prefill) or `replay` (from the start, held back until it covered the delivered text). */
  mode: 'continue' | 'replay';
  /**
   * `recovered`: the caller got the whole answer; `diverged`: the replay differed; `failed`: no backend finished it.
   */
  result: 'recovered' | 'diverged' | 'failed';
  /** The backend whose stream broke, and how (`reset`, `idle-timeout`, `other` for an error event). */
  fromBackend: string;
  failure: string;
  /** The backend that finished the answer (or tried to), or null. */
  toBackend: string | null;
  /** True when a backend refused the continuation's prefill (400) and the answer was replayed. */
  prefillRefused: boolean;
  /** Characters of the answer the caller had when the stream broke. */
  deliveredChars: number;
  /** Tokens of each attempt of the answer, in order (their sum is `tokens`). */
  attemptTokens: UsageReading[];
}

/** Attempts listed per record; more are only counted. */
export const MAX_RECORDED_ATTEMPTS = 16;

/** What the engine knows when a request ends; everything not given takes a neutral default. */
export interface UsageRecordInput {
  requestId: string;
  /** Arrival time, epoch ms; defaults to `clock.now()`. */
  timestampMs?: number;
  caller?: Partial<UsageCaller>;
  priority?: number | null;
  route?: string | null;
  api?: UsageApi;
  stream?: boolean;
  modelRequested?: string | null;
  backend?: { name: string; group?: string | null } | null;
  attempts?: readonly UsageAttempt[];
  /** Total attempts when more were made than listed. */
  attemptCount?: number;
  httpStatus: number;
  outcome: UsageOutcome;
  /** Why a `cut` call was cut (ignored for other outcomes). */
  cutReason?: UsageCutReason | null | undefined;
  timings?: Partial<UsageTimings>;
  tokens?: UsageReading;
  includeUsageInjected?: boolean;
  asyncJobId?: string | null;
  grant?: { group: string; reason: string } | null;
  recovery?: UsageRecovery | null;
}

/**
 * Builds a {@link UsageRecord} with every field present. `rejected` and `failed` requests carry no tokens
 * unless a reading is given (a failed attempt is never billed as a completion).
 *
 * @example
 * const record = createUsageRecord({ requestId: 'r1', httpStatus: 200, outcome: 'complete', tokens: reading,
 *   caller: { userId: 'alice', tier: 'interactive' }, backend: { name: 'aoai-ptu-1', group: 'ptu' } }, clock);
 */
export function createUsageRecord(input: UsageRecordInput, clock: Clock): UsageRecord {
  const timestampMs = input.timestampMs ?? clock.now();
  const items = (input.attempts ?? []).slice(0, MAX_RECORDED_ATTEMPTS).map((a) => ({ ...a }));
  const tokens = input.tokens ?? emptyUsageReading();
  return {
    schemaVersion: USAGE_RECORD_SCHEMA_VERSION,
    requestId: input.requestId,
    timestampMs,
    timestamp: new Date(timestampMs).toISOString(),
    caller: {
      userId: input.caller?.userId ?? null,
      appId: input.caller?.appId ?? null,
      profileId: input.caller?.profileId ?? null,
      tier: input.caller?.tier ?? null,
    },
    priority: input.priority ?? null,
    route: input.route ?? null,
    api: input.api ?? 'unknown',
    stream: input.stream ?? false,
    modelRequested: input.modelRequested ?? null,
    modelServed: tokens.servedModel,
    backend: input.backend == null ? null : { name: input.backend.name, group: input.backend.group ?? null },
    attempts: { count: Math.max(input.attemptCount ?? 0, input.attempts?.length ?? 0), items },
    httpStatus: input.httpStatus,
    outcome: input.outcome,
    cutReason: input.outcome === 'cut' ? (input.cutReason ?? 'backend') : null,
    timings: {
      queueWaitMs: input.timings?.queueWaitMs ?? 0,
      ttfbMs: input.timings?.ttfbMs ?? null,
      totalMs: input.timings?.totalMs ?? 0,
      overheadMs: input.timings?.overheadMs ?? 0,
    },
    tokens: { ...tokens },
    includeUsageInjected: input.includeUsageInjected ?? false,
    asyncJobId: input.asyncJobId ?? null,
    grant: input.grant ?? null,
    recovered: input.recovery?.result === 'recovered',
    recovery: input.recovery ?? null,
  };
}

/**
 * Reads a record back from JSON (an NDJSON line, a Table entity's payload). Returns undefined for anything
 * that is not a version-1 record; unknown extra fields are kept (forward compatibility).
 */
export function parseUsageRecord(value: unknown): UsageRecord | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const r = value as Partial<UsageRecord>;
  if (r.schemaVersion !== USAGE_RECORD_SCHEMA_VERSION) return undefined;
  if (typeof r.requestId !== 'string' || typeof r.timestampMs !== 'number' || !Number.isFinite(r.timestampMs))
    return undefined;
  if (typeof r.tokens !== 'object' || r.tokens === null || typeof r.caller !== 'object' || r.caller === null)
    return undefined;
  return r as UsageRecord;
}
