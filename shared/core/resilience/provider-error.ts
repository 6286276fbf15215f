/**
 * What a backend's error body says, in the few fields that decide what the gateway does with it, and the
 * one table that names the provider shapes the gateway acts on (`docs/resilience.md` §1 prints it).
 */

/** The deciding fields of a provider error body (OpenAI, Azure OpenAI, Anthropic, Gemini shapes). */
export interface ProviderError {
  /** `error.code` when it is a text (OpenAI, Azure OpenAI). */
  readonly code?: string | undefined;
  /** `error.innererror.code` (Azure OpenAI content filter: `ResponsibleAIPolicyViolation`). */
  readonly innerCode?: string | undefined;
  /** `error.type` (OpenAI `invalid_request_error`, Anthropic `not_found_error`). */
  readonly type?: string | undefined;
  /** Google's `error.status` (`INVALID_ARGUMENT`, `NOT_FOUND`). */
  readonly googleStatus?: string | undefined;
  /** `error.message`, cut to {@link MAX_MESSAGE_CHARS}. */
  readonly message?: string | undefined;
}

/**
 * What an error answer means for the call:
 * - `context-length`: the prompt does not fit this model's context window (a route's context-window fallback
 *   may take it; the same prompt is never resent to the same model);
 * - `content-filter`: a content policy refused the prompt (never failed over: another backend would too);
 * - `deployment-not-found`: the model or deployment is missing on this backend only (the pool's other members
 *   are tried);
 * - `prefill-rejected`: the backend refuses a final assistant message (stream recovery replays instead);
 * - `quota-exhausted`: the gateway's account at this backend is out of quota (cools long);
 * - `caller-fault`: another known caller fault (returned verbatim).
 */
export type ProviderErrorKind =
  | 'context-length'
  | 'content-filter'
  | 'deployment-not-found'
  | 'prefill-rejected'
  | 'quota-exhausted'
  | 'caller-fault';

/** One row of {@link PROVIDER_ERROR_TABLE}: every given condition must hold. */
export interface ProviderErrorRule {
  readonly kind: ProviderErrorKind;
  /** Who answers this way (documentation). */
  readonly provider: string;
  /** Statuses the row applies to; omitted = any error status. */
  readonly statuses?: readonly number[];
  readonly code?: string;
  readonly innerCode?: string;
  readonly type?: string;
  readonly googleStatus?: string;
  /** Tested against `error.message`. */
  readonly message?: RegExp;
}

/** Longest `error.message` kept for matching. */
export const MAX_MESSAGE_CHARS = 1_000;

const NOT_FOUND = [404] as const;

/**
 * The provider error shapes the gateway recognises, first match wins. Codes are exact; messages are
 * matched only where a provider gives no code (Anthropic, Gemini) or where OpenAI-compatible servers copy
 * OpenAI's message without its code (vLLM).
 */
export const PROVIDER_ERROR_TABLE: readonly ProviderErrorRule[] = [
  // Content filters first: an Azure content-filter body also carries `code: content_filter` at the top.
  { kind: 'content-filter', provider: 'OpenAI, Azure OpenAI', code: 'content_filter' },
  { kind: 'content-filter', provider: 'Azure OpenAI', innerCode: 'ResponsibleAIPolicyViolation' },
  { kind: 'content-filter', provider: 'OpenAI (images, moderation)', code: 'content_policy_violation' },
  { kind: 'content-filter', provider: 'OpenAI (reasoning models)', code: 'invalid_prompt' },
  { kind: 'content-filter', provider: 'Gemini', googleStatus: 'INVALID_ARGUMENT', message: /\bblocked\b.*\bsafety\b/i },
  { kind: 'context-length', provider: 'OpenAI, Azure OpenAI (chat, responses)', code: 'context_length_exceeded' },
  { kind: 'context-length', provider: 'OpenAI-compatible (vLLM …)', message: /maximum context length is \d+/i },
  { kind: 'context-length', provider: 'OpenAI (responses)', message: /exceeds the context window/i },
  { kind: 'context-length', provider: 'Anthropic', type: 'invalid_request_error', message: /prompt is too long/i },
  { kind: 'context-length', provider: 'Anthropic', type: 'invalid_request_error', message: /exceed context limit/i },
  {
    kind: 'context-length',
    provider: 'Gemini',
    googleStatus: 'INVALID_ARGUMENT',
    message: /input token count.*exceeds the maximum/i,
  },
  { kind: 'deployment-not-found', provider: 'Azure OpenAI', statuses: NOT_FOUND, code: 'DeploymentNotFound' },
  { kind: 'deployment-not-found', provider: 'OpenAI', statuses: NOT_FOUND, code: 'model_not_found' },
  {
    kind: 'deployment-not-found',
    provider: 'Anthropic',
    statuses: NOT_FOUND,
    type: 'not_found_error',
    message: /^model:/i,
  },
  {
    kind: 'deployment-not-found',
    provider: 'Gemini',
    statuses: NOT_FOUND,
    googleStatus: 'NOT_FOUND',
    message: /models\/\S+ is not found/i,
  },
  {
    kind: 'deployment-not-found',
    provider: 'OpenAI-compatible (vLLM, Ollama …)',
    statuses: NOT_FOUND,
    message: /\bmodel\b.*\b(does not exist|not found)\b/i,
  },
  {
    kind: 'prefill-rejected',
    provider: 'Anthropic (Claude 4.6+, thinking)',
    statuses: [400],
    message: /does not support assistant message prefill|conversation must end with a user message/i,
  },
  {
    kind: 'prefill-rejected',
    provider: 'Anthropic',
    statuses: [400],
    message: /final assistant content cannot end with trailing whitespace/i,
  },
  {
    kind: 'prefill-rejected',
    provider: 'Mistral',
    statuses: [400],
    message: /expected last role .* but got assistant/i,
  },
  { kind: 'quota-exhausted', provider: 'OpenAI', statuses: [429], code: 'insufficient_quota' },
  { kind: 'caller-fault', provider: 'OpenAI', code: 'string_above_max_length' },
];

/**
 * The kind of a provider error, from {@link PROVIDER_ERROR_TABLE}; undefined when no row matches (an
 * ordinary status, decided by the status alone).
 *
 * @example
 * providerErrorKind(404, { code: 'DeploymentNotFound' }) // → 'deployment-not-found'
 * const message = 'prompt is too long: 210000 tokens > 200000 maximum';
 * providerErrorKind(400, { type: 'invalid_request_error', message }) // → 'context-length'
 */
export function providerErrorKind(status: number, error: ProviderError | undefined): ProviderErrorKind | undefined {
  if (error === undefined) return undefined;
  for (const rule of PROVIDER_ERROR_TABLE) if (matches(rule, status, error)) return rule.kind;
  return undefined;
}

function matches(rule: ProviderErrorRule, status: number, error: ProviderError): boolean {
  if (rule.statuses !== undefined && !rule.statuses.includes(status)) return false;
  if (rule.code !== undefined && rule.code !== error.code) return false;
  if (rule.innerCode !== undefined && rule.innerCode !== error.innerCode) return false;
  if (rule.type !== undefined && rule.type !== error.type) return false;
  if (rule.googleStatus !== undefined && rule.googleStatus !== error.googleStatus) return false;
  if (rule.message !== undefined && (error.message === undefined || !rule.message.test(error.message))) return false;
  return true;
}

/**
 * Reads the deciding fields of an error body: OpenAI / Azure `{"error":{"code","type","message","innererror"}}`,
 * Anthropic `{"type":"error","error":{"type","message"}}`, Google `{"error":{"code":404,"status","message"}}`.
 * Undefined for a body that is not JSON or has no `error` object.
 *
 * @example
 * parseProviderError('{"error":{"code":"DeploymentNotFound","message":"The API deployment …"}}')
 * // → { code: 'DeploymentNotFound', message: 'The API deployment …' }
 */
export function parseProviderError(text: string): ProviderError | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  const error = field(parsed, 'error');
  if (typeof error !== 'object' || error === null) return undefined;
  const message = field(error, 'message');
  return {
    code: nonEmptyText(field(error, 'code')),
    innerCode: nonEmptyText(field(field(error, 'innererror'), 'code')),
    type: nonEmptyText(field(error, 'type')),
    googleStatus: nonEmptyText(field(error, 'status')),
    message: typeof message === 'string' ? message.slice(0, MAX_MESSAGE_CHARS) : undefined,
  };
}

function field(value: unknown, name: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[name] : undefined;
}

function nonEmptyText(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
