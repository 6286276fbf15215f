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
 * A backend URL may end in the API root the gateway writes (`https://api.openai.com/v1`,
 * `https://host/openai/v1` for Azure's v1 API, `https://x.openai.azure.com/openai`,
 * `https://api.anthropic.com/v1`, `…/v1beta`): that root is then not written twice (see {@link joinBase}).
 * Plain-HTTP and path-prefix forwarding never do this — their paths go after the URL as they are.
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
      path: joinBase(basePath, `/openai/deployments/${encodeURIComponent(mapped)}/${target.operation}${search}`),
      bodyModel: undefined,
    };
  }
  if (backend.kind === 'openai' && aiShape) {
    const search = target.shape === 'azure-openai' ? withoutApiVersion(target.search) : target.search;
    return { path: joinBase(basePath, `/v1/${target.operation}${search}`), bodyModel: mapped };
  }
  if (target.shape === 'gemini' && mapped !== undefined) {
    const version = target.path.startsWith('/v1beta/') ? 'v1beta' : 'v1';
    return {
      path: joinBase(basePath, `/${version}/models/${encodeURIComponent(mapped)}:${target.operation}${target.search}`),
      bodyModel: undefined,
    };
  }
  const path = backend.kind === 'http' ? basePath + target.path : joinBase(basePath, target.path);
  return { path: path + target.search, bodyModel: target.modelInBody ? mapped : undefined };
}

/** API roots a backend URL may already end in. */
const API_ROOTS = new Set(['v1', 'v1beta', 'openai']);

/**
 * Appends an API path to a backend URL's base path, writing the API root once: when the base path's last
 * segment is the root the API path starts with (`/v1`, `/v1beta`, `/openai`), that segment is not repeated.
 * Most SDKs and tools take `/v1` as part of the base URL, so both forms of a backend URL work.
 *
 * @example
 * joinBase('/v1', '/v1/chat/completions')        // → '/v1/chat/completions'
 * joinBase('/openai/v1', '/v1/chat/completions') // → '/openai/v1/chat/completions' (Azure OpenAI v1 API)
 * joinBase('/proxy', '/v1/chat/completions')     // → '/proxy/v1/chat/completions'
 */
export function joinBase(basePath: string, apiPath: string): string {
  const slash = basePath.lastIndexOf('/');
  const last = basePath.slice(slash + 1);
  if (slash < 0 || !API_ROOTS.has(last)) return basePath + apiPath;
  const root = `/${last}`;
  const rest = apiPath.slice(root.length);
  if (!apiPath.startsWith(root) || (rest !== '' && !'/?:'.includes(rest[0]!))) return basePath + apiPath;
  return basePath.slice(0, slash) + apiPath;
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
