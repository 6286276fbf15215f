import type { BackendConfig } from '../../config/schema.js';
import type { Admission, GatewayAdmission } from '../governance/admission.js';
import type { GatewayResponse } from '../http/gateway-request.js';
import { jsonResponse } from '../http/json-response.js';
import type { BackendModel, BackendModelLists } from '../routing/backend-model-lists.js';
import { poolMemberIds, type EngineSnapshot } from './engine-snapshot.js';

/** The paths of the model list (OpenAI's, and the Azure OpenAI v1 API's). */
const MODEL_LIST_PATHS = new Set(['/v1/models', '/openai/v1/models']);

/** True for `GET /v1/models` and `GET /openai/v1/models`. */
export function isModelList(method: string, path: string): boolean {
  return method === 'GET' && MODEL_LIST_PATHS.has(path);
}

/** Dependencies of {@link listModels}. */
export interface ModelListDeps {
  readonly admission: Pick<GatewayAdmission, 'authorizeTarget'>;
  readonly modelLists: Pick<BackendModelLists, 'of'>;
}

/**
 * `GET /v1/models` for an admitted caller, in OpenAI's shape (so `client.models.list()` works): the model
 * names the routes configure, then — for routes matching by wildcard (`*`, `gpt-4o*`) — the names the
 * route's OpenAI-compatible pool members list themselves (`BackendModelLists`: cached briefly, bounded),
 * turned back into the names callers use (a backend's `models` map read backwards), kept when they match
 * the wildcard and this route serves them. Every name is filtered by the caller's allowlists (routes,
 * models); each is listed once.
 *
 * @example
 * if (isModelList(method, path)) return listModels(deps, snapshot(), context.admission, requestId);
 */
export async function listModels(
  deps: ModelListDeps,
  s: EngineSnapshot,
  admission: Admission,
  requestId: string,
): Promise<GatewayResponse> {
  const listed = new Map<string, BackendModel>();
  const add = (model: BackendModel): void => {
    if (listed.has(model.id.toLowerCase())) return;
    const routeId = s.router.byModel(model.id)?.route.id;
    if (routeId !== undefined && allowed(deps, admission, routeId, model.id)) listed.set(model.id.toLowerCase(), model);
  };
  for (const id of s.router.models()) add({ id, created: 0, ownedBy: 'gateway' });
  const sources = wildcardSources(s);
  const lists = await Promise.all(sources.map((source) => deps.modelLists.of(source.backend)));
  sources.forEach(({ routeId, prefixes, backend }, i) => {
    const callerNames = reverseModelMap(backend.models);
    for (const model of lists[i]!) {
      const id = callerNames.get(model.id) ?? model.id;
      const lower = id.toLowerCase();
      if (prefixes.some((p) => lower.startsWith(p)) && s.router.byModel(id)?.route.id === routeId)
        add({ ...model, id });
    }
  });
  const data = [...listed.values()].map((m) => ({
    id: m.id,
    object: 'model',
    created: m.created,
    owned_by: m.ownedBy,
  }));
  return jsonResponse(200, { object: 'list', data }, requestId);
}

/** Each wildcard route's OpenAI-compatible pool members, with the route's wildcard prefixes (lower case). */
function wildcardSources(
  s: EngineSnapshot,
): { readonly routeId: string; readonly prefixes: readonly string[]; readonly backend: BackendConfig }[] {
  const sources: { routeId: string; prefixes: string[]; backend: BackendConfig }[] = [];
  for (const route of s.config.routes) {
    const prefixes = (route.match.models ?? []).filter((m) => m.endsWith('*')).map((m) => m.slice(0, -1).toLowerCase());
    const pool = s.pools.get(route.pool);
    if (prefixes.length === 0 || pool === undefined) continue;
    for (const backendId of poolMemberIds(pool)) {
      const backend = s.config.backends.find((b) => b.id === backendId);
      // Only OpenAI-compatible backends list models at /v1/models; a passthrough backend holds no credential.
      if (backend !== undefined && backend.kind === 'openai' && backend.auth.type !== 'passthrough')
        sources.push({ routeId: route.id, prefixes, backend });
    }
  }
  return sources;
}

function allowed(deps: ModelListDeps, admission: Admission, routeId: string, model: string): boolean {
  try {
    deps.admission.authorizeTarget(admission, { routeId, model, deployment: undefined });
    return true;
  } catch {
    return false;
  }
}

/** A backend's `models` map (caller's name → the backend's) read backwards; the first caller name wins. */
function reverseModelMap(models: Readonly<Record<string, string>>): Map<string, string> {
  const reversed = new Map<string, string>();
  for (const [callerName, backendName] of Object.entries(models))
    if (!reversed.has(backendName)) reversed.set(backendName, callerName);
  return reversed;
}
