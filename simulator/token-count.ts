/** The request shapes the simulator generates answers for. */
export type ApiKind = 'chat' | 'completions' | 'embeddings' | 'responses' | 'anthropic' | 'gemini';

/** Where each API keeps its input text, in the request body. */
const INPUT_FIELDS: Readonly<Record<ApiKind, readonly string[]>> = {
  chat: ['messages'],
  completions: ['prompt'],
  embeddings: ['input'],
  responses: ['instructions', 'input'],
  anthropic: ['system', 'messages'],
  gemini: ['systemInstruction', 'contents'],
};

/** Characters per token of the simulator's deterministic "tokenizer". */
export const CHARS_PER_TOKEN = 4;

const MAX_DEPTH = 8;

/**
 * Tokens for a number of characters: `max(1, ceil(chars / 4))`.
 *
 * @example tokensForChars(9) // → 3
 */
export function tokensForChars(chars: number): number {
  return Math.max(1, Math.ceil(chars / CHARS_PER_TOKEN));
}

/**
 * Counts the input characters of a value: strings by `.length` (UTF-16 code units), pre-tokenized
 * integers as one token (4 characters) each, objects through their `text`, `content` and `parts`.
 */
function charsOf(value: unknown, depth: number): number {
  if (typeof value === 'string') return value.length;
  if (typeof value === 'number') return CHARS_PER_TOKEN;
  if (depth >= MAX_DEPTH || typeof value !== 'object' || value === null) return 0;
  let chars = 0;
  if (Array.isArray(value)) {
    for (const item of value) chars += charsOf(item, depth + 1);
    return chars;
  }
  const record = value as Record<string, unknown>;
  if (typeof record.text === 'string') chars += record.text.length;
  if (record.content !== undefined) chars += charsOf(record.content, depth + 1);
  if (record.parts !== undefined) chars += charsOf(record.parts, depth + 1);
  return chars;
}

/**
 * The prompt tokens the simulator reports for a request body: `max(1, ceil(C / 4))` where C is the
 * number of characters of all input text together (see {@link charsOf} for what counts):
 * chat `messages`, completions `prompt`, embeddings `input`, responses `instructions` + `input`,
 * Anthropic `system` + `messages`, Gemini `systemInstruction` + `contents`.
 *
 * @example countPromptTokens('chat', { messages: [{ role: 'user', content: 'Hello there!' }] }) // → 3
 */
export function countPromptTokens(api: ApiKind, body: unknown): number {
  if (typeof body !== 'object' || body === null) return 1;
  const record = body as Record<string, unknown>;
  let chars = 0;
  for (const field of INPUT_FIELDS[api]) chars += charsOf(record[field], 0);
  return tokensForChars(chars);
}

const WORDS = [
  'Hello',
  'from',
  'the',
  'simulator.',
  'This',
  'answer',
  'is',
  'deterministic:',
  'one',
  'word',
  'per',
  'token,',
  'so',
  'tests',
  'can',
  'count',
  'every',
  'chunk',
  'they',
  'receive.',
] as const;
const TOKEN_TEXTS: readonly string[] = WORDS.map((w, i) => (i === 0 ? w : ` ${w}`));
const FIRST_AFTER_WRAP = ` ${WORDS[0]}`;

/**
 * The text of completion token `index` (0-based): a word from a fixed list, with a leading space
 * except for the very first token.
 */
export function completionTokenText(index: number): string {
  if (index < TOKEN_TEXTS.length) return TOKEN_TEXTS[index] as string;
  const i = index % TOKEN_TEXTS.length;
  return i === 0 ? FIRST_AFTER_WRAP : (TOKEN_TEXTS[i] as string);
}

const TEXT_CACHE = new Map<number, string>();
const TEXT_CACHE_MAX = 256;

/** The whole completion of `tokens` tokens from token `offset` on: the concatenation of {@link completionTokenText}. */
export function completionText(tokens: number, offset = 0): string {
  if (offset !== 0) {
    let text = '';
    for (let i = offset; i < offset + tokens; i++) text += completionTokenText(i);
    return text;
  }
  const cached = TEXT_CACHE.get(tokens);
  if (cached !== undefined) return cached;
  let text = '';
  for (let i = 0; i < tokens; i++) text += completionTokenText(i);
  if (TEXT_CACHE.size < TEXT_CACHE_MAX) TEXT_CACHE.set(tokens, text);
  return text;
}

/**
 * How many whole tokens of the deterministic answer a prefill already holds: the longest run of
 * {@link completionTokenText} from token 0 that the text starts with (trailing blanks ignored, as a server
 * that continues a prefill sees it trimmed).
 *
 * @example continuedTokens('Hello from the') // → 3
 */
export function continuedTokens(prefill: string): number {
  const text = prefill.trimEnd();
  let at = 0;
  let tokens = 0;
  for (;;) {
    const next = completionTokenText(tokens);
    if (!text.startsWith(next, at)) return tokens;
    at += next.length;
    tokens++;
  }
}
