import { GatewayError } from '../errors/gateway-error.js';

/** The largest output cap accepted (no model writes a million tokens in one answer). */
export const MAX_OUTPUT_TOKENS = 1_048_576;
/** The largest number of answers one request may ask for (OpenAI's own bound on `n`). */
export const MAX_CHOICES = 128;

/** The fields of a request that size its answer, checked. */
export interface RequestCost {
  /** The output cap the caller set, undefined when it set none. */
  readonly outputTokenCap: number | undefined;
  /** Answers the backend writes: `n`, `best_of` (completions) or `generationConfig.candidateCount` (Gemini). */
  readonly choices: number;
}

/**
 * Reads and checks the fields that size a request's answer: the output cap (`max_tokens`,
 * `max_completion_tokens`, `max_output_tokens` of the Responses API, Gemini's
 * `generationConfig.maxOutputTokens`) must be an integer 0–{@link MAX_OUTPUT_TOKENS}, and the answer count
 * (`n`, `best_of`, `generationConfig.candidateCount`) an integer 1–{@link MAX_CHOICES}; `null` means unset.
 * Anything else (`1e308`, `2.5`, `"100"`) is refused with 400 `GW_ERR_REQUEST_INVALID_PARAMETER` naming the
 * field, rather than sizing a reservation from it.
 *
 * @example
 * requestCost({ max_tokens: 100, n: 3 }) // → { outputTokenCap: 100, choices: 3 }
 */
export function requestCost(body: unknown): RequestCost {
  const record = isRecord(body) ? body : {};
  const generation = isRecord(record.generationConfig) ? record.generationConfig : {};
  const caps = [
    checked('max_tokens', record.max_tokens, 0, MAX_OUTPUT_TOKENS),
    checked('max_completion_tokens', record.max_completion_tokens, 0, MAX_OUTPUT_TOKENS),
    checked('max_output_tokens', record.max_output_tokens, 0, MAX_OUTPUT_TOKENS),
    checked('generationConfig.maxOutputTokens', generation.maxOutputTokens, 0, MAX_OUTPUT_TOKENS),
  ];
  const counts = [
    checked('n', record.n, 1, MAX_CHOICES),
    // best_of answers are generated server side and billed even though one is returned.
    checked('best_of', record.best_of, 1, MAX_CHOICES),
    checked('generationConfig.candidateCount', generation.candidateCount, 1, MAX_CHOICES),
  ];
  return {
    outputTokenCap: caps.find((v) => v !== undefined),
    choices: Math.max(1, ...counts.map((v) => v ?? 1)),
  };
}

/**
 * Tokens to reserve for a request at admission, before anything is known about the answer: the output
 * cap the caller set (else `defaultMaxOutputTokens`) times the answers it asked for (`n`, `best_of`,
 * `candidateCount`), plus the prompt estimated as its text length / `charsPerToken` (the prompt is read
 * once however many answers are written). The estimate only sizes the reservation; the metered usage
 * settles it afterwards. Throws as {@link requestCost} does on an absurd cap or count.
 *
 * The walk over the body visits at most 100 000 values, so a hostile body cannot make it expensive.
 *
 * @example
 * estimateRequestTokens({ messages: [{ role: 'user', content: 'x'.repeat(400) }], max_tokens: 100, n: 2 },
 *   { defaultMaxOutputTokens: 4096, charsPerToken: 4 }) // → 2 × 100 + ceil(404 / 4) = 301
 */
export function estimateRequestTokens(
  body: unknown,
  options: { defaultMaxOutputTokens: number; charsPerToken: number },
): number {
  const cost = requestCost(body);
  const outputTokens = (cost.outputTokenCap ?? options.defaultMaxOutputTokens) * cost.choices;
  return outputTokens + Math.ceil(promptChars(isRecord(body) ? body : {}) / options.charsPerToken);
}

function checked(param: string, value: unknown, min: number, max: number): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) return value;
  throw new GatewayError('GW_ERR_REQUEST_INVALID_PARAMETER', {
    message: `"${param}" must be an integer from ${min} to ${max}.`,
    param,
  });
}

const SKIPPED_KEYS = new Set([
  'model',
  'max_tokens',
  'max_completion_tokens',
  'max_output_tokens',
  'stream',
  'temperature',
  'top_p',
  'n',
  'best_of',
  'user',
  'stream_options',
  'generationConfig',
]);

function promptChars(record: Record<string, unknown>): number {
  let chars = 0;
  let budget = 100_000;
  const stack: unknown[] = Object.entries(record)
    .filter(([k]) => !SKIPPED_KEYS.has(k))
    .map(([, v]) => v);
  while (stack.length > 0 && budget-- > 0) {
    const value = stack.pop();
    if (typeof value === 'string') chars += value.length;
    else if (Array.isArray(value) || isRecord(value)) {
      for (const child of Array.isArray(value) ? value : Object.values(value)) {
        if (stack.length >= 100_000) break;
        stack.push(child);
      }
    }
  }
  return chars;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
