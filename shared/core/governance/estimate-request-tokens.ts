/**
 * Tokens to reserve for a request at admission, before anything is known about the answer: the output
 * cap the caller set (`max_tokens`, `max_completion_tokens`, `max_output_tokens`, or Anthropic/Gemini
 * `max_tokens` / `generationConfig.maxOutputTokens`; else `defaultMaxOutputTokens`) plus the prompt
 * estimated as its text length / `charsPerToken`. The estimate only sizes the reservation; the metered
 * usage settles it afterwards.
 *
 * The walk over the body visits at most 100 000 values, so a hostile body cannot make it expensive.
 *
 * @example
 * estimateRequestTokens({ messages: [{ role: 'user', content: 'x'.repeat(400) }], max_tokens: 100 },
 *   { defaultMaxOutputTokens: 4096, charsPerToken: 4 }) // → 100 + ceil(404 / 4) = 201
 */
export function estimateRequestTokens(
  body: unknown,
  options: { defaultMaxOutputTokens: number; charsPerToken: number },
): number {
  const record = isRecord(body) ? body : {};
  const generation = isRecord(record.generationConfig) ? record.generationConfig : {};
  const cap = [
    record.max_tokens,
    record.max_completion_tokens,
    record.max_output_tokens,
    generation.maxOutputTokens,
  ].find((v): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0);
  const outputTokens = Math.ceil(cap ?? options.defaultMaxOutputTokens);
  return outputTokens + Math.ceil(promptChars(record) / options.charsPerToken);
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
