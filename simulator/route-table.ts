import type { ApiKind } from './token-count.js';

/** A request that produces a model answer. */
export interface GenerateRoute {
  readonly action: 'generate';
  readonly api: ApiKind;
  /** Azure OpenAI flavour (`/openai/...`): `usage: null` on every chunk, prompt filter results. */
  readonly azure: boolean;
  /** Model named by the path: the Azure deployment or the Gemini model; null when the body names it. */
  readonly pathModel: string | null;
  /** Gemini `:streamGenerateContent`; null for APIs that take `stream` from the body. */
  readonly pathStream: boolean | null;
}

/** Any request the simulator serves (control routes excepted). */
export type Route =
  | GenerateRoute
  | { readonly action: 'models' }
  | { readonly action: 'response-get'; readonly id: string }
  | { readonly action: 'response-delete'; readonly id: string };

const OPENAI_OPS: Readonly<Record<string, ApiKind>> = {
  'chat/completions': 'chat',
  completions: 'completions',
  embeddings: 'embeddings',
  responses: 'responses',
};

function gen(
  api: ApiKind,
  azure: boolean,
  pathModel: string | null = null,
  pathStream: boolean | null = null,
): GenerateRoute {
  return { action: 'generate', api, azure, pathModel, pathStream };
}

function decode(segment: string): string | null {
  try {
    const value = decodeURIComponent(segment);
    return value === '' ? null : value;
  } catch {
    return null;
  }
}

/** Routes under an OpenAI-style root (`/v1/`, `/openai/v1/`, `/openai/`); `rest` has no leading slash. */
function matchOpenAiStyle(method: string, rest: string, azure: boolean): Route | null {
  if (method === 'POST') {
    const api = OPENAI_OPS[rest];
    return api ? gen(api, azure) : null;
  }
  if (rest === 'models') return method === 'GET' ? { action: 'models' } : null;
  if (rest.startsWith('responses/')) {
    const id = decode(rest.slice('responses/'.length));
    if (id === null || id.includes('/')) return null;
    if (method === 'GET') return { action: 'response-get', id };
    if (method === 'DELETE') return { action: 'response-delete', id };
  }
  return null;
}

/**
 * Maps a method and a path (no query) to what the simulator does with it; null for anything it does
 * not serve. A single trailing slash is ignored.
 *
 * @example matchRoute('POST', '/openai/deployments/gpt-4o/chat/completions')
 *   // → { action: 'generate', api: 'chat', azure: true, pathModel: 'gpt-4o', pathStream: null }
 */
export function matchRoute(method: string, rawPath: string): Route | null {
  const path = rawPath.length > 1 && rawPath.endsWith('/') ? rawPath.slice(0, -1) : rawPath;
  if (path === '/v1/messages') return method === 'POST' ? gen('anthropic', false) : null;
  if (path.startsWith('/v1/')) {
    if (path.startsWith('/v1/models/')) return matchGemini(method, path.slice('/v1/models/'.length));
    return matchOpenAiStyle(method, path.slice('/v1/'.length), false);
  }
  if (path.startsWith('/v1beta/models/')) return matchGemini(method, path.slice('/v1beta/models/'.length));
  if (path.startsWith('/openai/deployments/')) {
    const rest = path.slice('/openai/deployments/'.length);
    const slash = rest.indexOf('/');
    if (slash <= 0 || method !== 'POST') return null;
    const deployment = decode(rest.slice(0, slash));
    const api = OPENAI_OPS[rest.slice(slash + 1)];
    if (deployment === null || !api || api === 'responses') return null;
    return gen(api, true, deployment);
  }
  if (path.startsWith('/openai/v1/')) return matchOpenAiStyle(method, path.slice('/openai/v1/'.length), true);
  if (path.startsWith('/openai/responses')) return matchOpenAiStyle(method, path.slice('/openai/'.length), true);
  return null;
}

function matchGemini(method: string, rest: string): Route | null {
  if (method !== 'POST') return null;
  const colon = rest.lastIndexOf(':');
  if (colon <= 0) return null;
  const model = decode(rest.slice(0, colon));
  const verb = rest.slice(colon + 1);
  if (model === null || model.includes('/')) return null;
  if (verb === 'generateContent') return gen('gemini', false, model, false);
  if (verb === 'streamGenerateContent') return gen('gemini', false, model, true);
  return null;
}
