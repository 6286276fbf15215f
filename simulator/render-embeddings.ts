/** What an embeddings answer is made of. */
export interface EmbeddingsRequest {
  readonly model: string;
  /** The request's `input` field as sent. */
  readonly input: unknown;
  readonly dimensions: number;
  readonly promptTokens: number;
  /** `encoding_format: "base64"` (the openai SDK's default): little-endian float32, base64. */
  readonly base64: boolean;
}

const MAX_INPUTS = 2048;

/** The inputs of an embeddings request: a string, a token array, or a list of either. */
export function embeddingInputs(input: unknown): string[] {
  if (typeof input === 'string') return [input];
  if (!Array.isArray(input) || input.length === 0) return [''];
  if (typeof input[0] === 'number') return [JSON.stringify(input)];
  return input.slice(0, MAX_INPUTS).map((item) => (typeof item === 'string' ? item : JSON.stringify(item)));
}

/** FNV-1a of a text, so that the same text always gets the same vector. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A deterministic unit vector of `dimensions` values for `text`. */
export function embeddingVector(text: string, dimensions: number): Float32Array {
  const vector = new Float32Array(dimensions);
  const seed = hash(text);
  let norm = 0;
  for (let j = 0; j < dimensions; j++) {
    const v = Math.sin(seed + (j + 1) * 12.9898);
    vector[j] = v;
    norm += v * v;
  }
  const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
  for (let j = 0; j < dimensions; j++) vector[j] = (vector[j] ?? 0) * scale;
  return vector;
}

/**
 * An OpenAI / Azure OpenAI embeddings body: one vector per input, `usage.prompt_tokens` =
 * `usage.total_tokens` = the request's prompt tokens.
 */
export function embeddingsBody(request: EmbeddingsRequest): string {
  const data = embeddingInputs(request.input).map((text, index) => {
    const vector = embeddingVector(text, request.dimensions);
    const embedding = request.base64
      ? Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).toString('base64')
      : Array.from(vector);
    return { object: 'embedding', index, embedding };
  });
  return JSON.stringify({
    object: 'list',
    data,
    model: request.model,
    usage: { prompt_tokens: request.promptTokens, total_tokens: request.promptTokens },
  });
}
