/**
 * What an incoming path asks for, independent of configuration: the API shape, the operation and,
 * where the path carries it, the model (Azure deployment, Gemini model). The model of OpenAI- and
 * Anthropic-shaped calls is in the JSON body and is filled in by the pipeline.
 */
export type ApiShape = 'openai' | 'azure-openai' | 'anthropic' | 'gemini' | 'http';

/** A parsed request target. */
export interface RequestTarget {
  readonly shape: ApiShape;
  /**
   * The operation, path-relative to the shape's root: `chat/completions`, `embeddings`, `responses`,
   * `responses/{id}`, `models`, `messages`, `generateContent`, … For `http` the whole path.
   */
  readonly operation: string;
  /** The model or deployment named in the path (Azure deployment, Gemini model). */
  readonly pathModel: string | undefined;
  /** True when the body's `model` field names the model (OpenAI, Anthropic). */
  readonly modelInBody: boolean;
  /** The path without the query. */
  readonly path: string;
  /** The query string including `?`, or ''. */
  readonly search: string;
}

const AZURE_DEPLOYMENT = /^\/openai\/deployments\/([^/]+)\/(.+)$/;
const GEMINI = /^\/(v1beta|v1)\/models\/([^/:]+):([A-Za-z]+)$/;

/** Operations whose JSON body names the model (POST). */
const BODY_MODEL_OPERATIONS = new Set([
  'chat/completions',
  'completions',
  'embeddings',
  'responses',
  'messages',
  'images/generations',
  'audio/speech',
  'moderations',
]);

/**
 * Parses a path (and query) into a {@link RequestTarget}.
 *
 * @example
 * parseRequestTarget('/openai/deployments/gpt4o/chat/completions', '?api-version=2024-10-21')
 * // → { shape: 'azure-openai', operation: 'chat/completions', pathModel: 'gpt4o', ... }
 */
export function parseRequestTarget(path: string, search: string): RequestTarget {
  const azure = AZURE_DEPLOYMENT.exec(path);
  if (azure)
    return {
      shape: 'azure-openai',
      operation: azure[2]!,
      pathModel: safeDecode(azure[1]!),
      modelInBody: false,
      path,
      search,
    };
  const gemini = GEMINI.exec(path);
  if (gemini)
    return {
      shape: 'gemini',
      operation: gemini[3]!,
      pathModel: safeDecode(gemini[2]!),
      modelInBody: false,
      path,
      search,
    };
  // Azure OpenAI's v1 API (`/openai/v1/...`) is OpenAI-shaped.
  const v1 = path.startsWith('/v1/') ? path.slice(4) : path.startsWith('/openai/v1/') ? path.slice(11) : undefined;
  if (v1 !== undefined) {
    if (v1 === 'messages')
      return { shape: 'anthropic', operation: v1, pathModel: undefined, modelInBody: true, path, search };
    return {
      shape: 'openai',
      operation: v1,
      pathModel: undefined,
      modelInBody: BODY_MODEL_OPERATIONS.has(v1),
      path,
      search,
    };
  }
  return { shape: 'http', operation: path, pathModel: undefined, modelInBody: false, path, search };
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
