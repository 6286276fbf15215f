import type { BackendConfig } from '../../config/schema.js';
import type { RequestTarget } from '../routing/request-target.js';

/** Where an attempt goes on a given backend, and which model name the body must carry there. */
export interface UpstreamTarget {
  /** Path and query on the backend, including the backend URL's own base path. */
  readonly path: string;
  /** The `model` to write into the JSON body, or undefined to leave the body's model as it is. */
  readonly bodyModel: string | undefined;
}

/**
 * Writes a request for a backend's API. OpenAI- and Azure-OpenAI-shaped calls translate into each
 * other (same body format, different addressing): an OpenAI call to an Azure backend goes to
 * `/openai/deployments/{deployment}/{operation}?api-version=…`, an Azure call to an OpenAI backend to
 * `/v1/{operation}` with the deployment as `model`. The backend's `models` map rewrites the name.
 * Other shapes are forwarded on their own path.
 *
 * @example
 * upstreamPath(parseRequestTarget('/v1/chat/completions', ''), azureBackend, 'gpt-4o', undefined)
 * // → { path: '/openai/deployments/gpt-4o-prod/chat/completions?api-version=2024-10-21', bodyModel: undefined }
 */
export function upstreamPath(
  target: RequestTarget,
  backend: BackendConfig,
  basePath: string,
  model: string | undefined,
  forwardPath: string | undefined,
): UpstreamTarget {
  const mapped = model === undefined ? undefined : (backend.models[model] ?? model);
  if (forwardPath !== undefined || target.shape === 'http') {
    return {
      path: basePath + (forwardPath ?? target.path) + target.search,
      bodyModel: target.modelInBody ? mapped : undefined,
    };
  }
  const aiShape = target.shape === 'openai' || target.shape === 'azure-openai';
  if (backend.kind === 'azure-openai' && aiShape && mapped !== undefined) {
    const search = withApiVersion(target.search, backend.apiVersion);
    return {
      path: `${basePath}/openai/deployments/${encodeURIComponent(mapped)}/${target.operation}${search}`,
      bodyModel: undefined,
    };
  }
  if (backend.kind === 'openai' && aiShape) {
    const search = target.shape === 'azure-openai' ? withoutApiVersion(target.search) : target.search;
    return { path: `${basePath}/v1/${target.operation}${search}`, bodyModel: mapped };
  }
  if (target.shape === 'gemini' && mapped !== undefined) {
    const version = target.path.startsWith('/v1beta/') ? 'v1beta' : 'v1';
    return {
      path: `${basePath}/${version}/models/${encodeURIComponent(mapped)}:${target.operation}${target.search}`,
      bodyModel: undefined,
    };
  }
  return { path: basePath + target.path + target.search, bodyModel: target.modelInBody ? mapped : undefined };
}

function withApiVersion(search: string, fallback: string | undefined): string {
  if (/[?&]api-version=/.test(search)) return search;
  const version = fallback ?? '2024-10-21';
  return search === '' ? `?api-version=${version}` : `${search}&api-version=${version}`;
}

function withoutApiVersion(search: string): string {
  if (search === '') return search;
  const params = new URLSearchParams(search);
  params.delete('api-version');
  const s = params.toString();
  return s === '' ? '' : `?${s}`;
}
