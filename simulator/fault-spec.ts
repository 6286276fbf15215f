/**
 * The shape of one scripted behaviour ("fault rule") of the simulator, its field table, validation of
 * the object form (from JSON) and the canonical text form used in the attempts log.
 *
 * Compatibility note: the text form is a wire format (header `x-sim-fault`, model suffix, query
 * `sim-fault`, CLI `--fault`, `POST /_sim/config`). Keys are only ever added, never renamed.
 */

/** Named faults; an HTTP error status is scripted with {@link FaultSpec.status} instead. */
export type FaultKind =
  | 'reset'
  | 'hang'
  | 'cut'
  | 'stall'
  | 'malformed'
  | 'no-done'
  | 'context-length'
  | 'content-filter'
  | 'deployment-not-found'
  | 'prefill-rejected';

/** Every named fault, in documentation order. */
export const FAULT_KINDS: readonly FaultKind[] = [
  'reset',
  'hang',
  'cut',
  'stall',
  'malformed',
  'no-done',
  'context-length',
  'content-filter',
  'deployment-not-found',
  'prefill-rejected',
];

/**
 * One scripted behaviour. Every field is optional; an empty spec changes nothing.
 * Conditions (`times`, `fromMs`/`forMs`/`everyMs`, `path`, `model`) decide whether the rule applies to
 * a request; the other fields say what happens when it does.
 */
export interface FaultSpec {
  /** A named fault. */
  fault?: FaultKind;
  /** Answer with this HTTP error status (400–599) in the provider's error shape. */
  status?: number;
  /** For `cut`, `stall` and `malformed`: completion tokens sent before the fault (default 1). */
  afterTokens?: number;
  /** `retry-after: <seconds>` on the error response. */
  retryAfterSeconds?: number;
  /** `retry-after-ms: <ms>` on the error response. */
  retryAfterMs?: number;
  /** `x-ms-retry-after-ms: <ms>` on the error response. */
  xMsRetryAfterMs?: number;
  /** `retry-after: <HTTP-date>` this many seconds after the simulator's clock. */
  retryAfterDateSeconds?: number;
  /** `S7PREQUEUE: true` on the error response (APIM's "requeue me"); implies status 429 when none is set. */
  requeue?: boolean;
  /** Apply to the first N matching requests only, then never again (until reset / reconfigure). */
  times?: number;
  /** Window start, ms after the config epoch (start, `configure`, `reset`). */
  fromMs?: number;
  /** Window length in ms; without it the window never ends. */
  forMs?: number;
  /** Repeat the window every this many ms (flapping). */
  everyMs?: number;
  /** Only requests whose path starts with this. */
  path?: string;
  /** Only requests for this (base) model or deployment. */
  model?: string;
  /** Delay before the response headers. */
  latencyMs?: number;
  /** Delay between the headers and the first body byte of a stream. */
  firstTokenDelayMs?: number;
  /** Pace of streamed tokens; 0 = back-to-back. */
  tokensPerSecond?: number;
  /** Visible completion tokens produced. */
  completionTokens?: number;
  /** Prompt tokens reported as cached (capped at the prompt tokens). */
  cachedTokens?: number;
  /** Anthropic `cache_creation_input_tokens` (capped at the uncached prompt tokens). */
  cacheWriteTokens?: number;
  /** Reasoning / thinking tokens, reported on top of the visible completion tokens. */
  reasoningTokens?: number;
  /** Embedding vector dimension. */
  dimensions?: number;
  /** The model reported in the response ("the model that actually answered"). */
  servedModel?: string;
  /** Chat completions: the answer starts at this word of the deterministic text (a different answer). */
  textOffset?: number;
}

type FieldType = 'int' | 'number' | 'string' | 'flag' | 'kind';

interface FieldDef {
  /** Key in the text grammar. */
  readonly key: string;
  /** Property of {@link FaultSpec}. */
  readonly field: keyof FaultSpec;
  readonly type: FieldType;
  readonly min?: number;
  readonly max?: number;
}

const DAY_MS = 86_400_000;

/** The grammar keys, in canonical order. */
export const FAULT_FIELDS: readonly FieldDef[] = [
  { key: 'fault', field: 'fault', type: 'kind' },
  { key: 'status', field: 'status', type: 'int', min: 400, max: 599 },
  { key: 'after', field: 'afterTokens', type: 'int', min: 0, max: 100_000 },
  { key: 'retry-after', field: 'retryAfterSeconds', type: 'int', min: 0, max: 86_400 },
  { key: 'retry-after-ms', field: 'retryAfterMs', type: 'int', min: 0, max: DAY_MS },
  { key: 'x-ms-retry-after-ms', field: 'xMsRetryAfterMs', type: 'int', min: 0, max: DAY_MS },
  { key: 'retry-after-date', field: 'retryAfterDateSeconds', type: 'int', min: 0, max: 86_400 },
  { key: 'requeue', field: 'requeue', type: 'flag' },
  { key: 'times', field: 'times', type: 'int', min: 0, max: 1_000_000_000 },
  { key: 'from-ms', field: 'fromMs', type: 'int', min: 0, max: 365 * DAY_MS },
  { key: 'for-ms', field: 'forMs', type: 'int', min: 0, max: 365 * DAY_MS },
  { key: 'every-ms', field: 'everyMs', type: 'int', min: 1, max: 365 * DAY_MS },
  { key: 'path', field: 'path', type: 'string' },
  { key: 'model', field: 'model', type: 'string' },
  { key: 'latency-ms', field: 'latencyMs', type: 'int', min: 0, max: DAY_MS },
  { key: 'first-token-ms', field: 'firstTokenDelayMs', type: 'int', min: 0, max: DAY_MS },
  { key: 'tps', field: 'tokensPerSecond', type: 'number', min: 0, max: 1_000_000 },
  { key: 'tokens', field: 'completionTokens', type: 'int', min: 0, max: 100_000 },
  { key: 'cached', field: 'cachedTokens', type: 'int', min: 0, max: 10_000_000 },
  { key: 'cache-write', field: 'cacheWriteTokens', type: 'int', min: 0, max: 10_000_000 },
  { key: 'reasoning', field: 'reasoningTokens', type: 'int', min: 0, max: 10_000_000 },
  { key: 'dims', field: 'dimensions', type: 'int', min: 1, max: 4096 },
  { key: 'served-model', field: 'servedModel', type: 'string' },
  { key: 'text-offset', field: 'textOffset', type: 'int', min: 0, max: 100_000 },
];

/** Grammar key → field definition. */
export const FIELDS_BY_KEY: ReadonlyMap<string, FieldDef> = new Map(FAULT_FIELDS.map((f) => [f.key, f]));
const FIELDS_BY_NAME: ReadonlyMap<string, FieldDef> = new Map(FAULT_FIELDS.map((f) => [f.field, f]));
const KIND_SET: ReadonlySet<string> = new Set(FAULT_KINDS);

/** A fault spec that could not be understood; the message names the offending key or value. */
export class FaultSpecError extends Error {
  /** Stable error code. */
  readonly code = 'SIM_ERR_FAULT_SPEC';
  constructor(message: string) {
    super(message);
    this.name = 'FaultSpecError';
  }
}

/** True when `value` names a {@link FaultKind}. */
export function isFaultKind(value: string): value is FaultKind {
  return KIND_SET.has(value);
}

/**
 * Checks one value against its field definition and stores it on `spec`.
 * Text values (from the grammar) are converted; typed values (from JSON) are checked as they are.
 */
export function setFaultField(spec: FaultSpec, def: FieldDef, value: unknown): void {
  const target = spec as Record<string, unknown>;
  switch (def.type) {
    case 'flag': {
      if (value === true || value === 'true' || value === '' || value === undefined) target[def.field] = true;
      else if (value === false || value === 'false') target[def.field] = false;
      else throw new FaultSpecError(`${def.key}: expected true or false, got ${JSON.stringify(value)}`);
      return;
    }
    case 'string': {
      if (typeof value !== 'string' || value === '') throw new FaultSpecError(`${def.key}: expected a non-empty text`);
      target[def.field] = value;
      return;
    }
    case 'kind': {
      if (typeof value !== 'string' || !isFaultKind(value)) {
        throw new FaultSpecError(
          `fault: unknown fault ${JSON.stringify(value)} (expected ` +
            `a status 400-599 or one of ${FAULT_KINDS.join(', ')})`,
        );
      }
      target[def.field] = value;
      return;
    }
    case 'int':
    case 'number': {
      let n: number;
      if (typeof value === 'number') n = value;
      else if (typeof value === 'string' && /^\d+(\.\d+)?$/.test(value)) n = Number(value);
      else throw new FaultSpecError(`${def.key}: expected a number, got ${JSON.stringify(value)}`);
      if (!Number.isFinite(n) || (def.type === 'int' && !Number.isInteger(n))) {
        throw new FaultSpecError(
          `${def.key}: expected ${def.type === 'int' ? 'a whole number' : 'a number'}, got ${String(value)}`,
        );
      }
      if ((def.min !== undefined && n < def.min) || (def.max !== undefined && n > def.max)) {
        throw new FaultSpecError(`${def.key}: ${n} is outside ${def.min ?? '-inf'}..${def.max ?? 'inf'}`);
      }
      target[def.field] = n;
      return;
    }
  }
}

/**
 * Validates the object form of a fault spec (as found in JSON config) and returns a clean copy.
 * Property names are the {@link FaultSpec} field names (`retryAfterMs`), or the grammar keys (`retry-after-ms`).
 *
 * @example normalizeFaultSpec({ status: 503, times: 2 }) // → { status: 503, times: 2 }
 */
export function normalizeFaultSpec(value: unknown): FaultSpec {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new FaultSpecError('a fault spec must be a text or an object');
  }
  const spec: FaultSpec = {};
  for (const [name, v] of Object.entries(value)) {
    const def = FIELDS_BY_NAME.get(name) ?? FIELDS_BY_KEY.get(name);
    if (!def) throw new FaultSpecError(`unknown key ${JSON.stringify(name)}`);
    if (v === undefined || v === null) continue;
    if (def.field === 'fault' && (typeof v === 'number' || (typeof v === 'string' && /^\d{3}$/.test(v)))) {
      setFaultField(spec, FIELDS_BY_KEY.get('status') as FieldDef, v);
      continue;
    }
    setFaultField(spec, def, v);
  }
  return spec;
}

/**
 * The canonical text form of a spec (keys in table order), as accepted by `parseFaultSpec`.
 *
 * @example formatFaultSpec({ status: 429, retryAfterMs: 200 }) // → 'status=429;retry-after-ms=200'
 */
export function formatFaultSpec(spec: FaultSpec): string {
  const parts: string[] = [];
  const source = spec as Record<string, unknown>;
  for (const def of FAULT_FIELDS) {
    const v = source[def.field];
    if (v === undefined) continue;
    if (def.type === 'flag') {
      if (v === true) parts.push(def.key);
      else parts.push(`${def.key}=false`);
    } else {
      parts.push(`${def.key}=${String(v)}`);
    }
  }
  return parts.join(';');
}
