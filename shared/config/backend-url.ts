/**
 * Checks a backend URL against its kind, for the mistakes that validate as URLs and then fail every call:
 * an operation's URL pasted as the base (`…/v1/chat/completions`, `…/openai/deployments/d/…`), or an Azure
 * OpenAI v1 URL (`…/openai/v1`) on an `azure-openai` backend, which writes deployment paths. A URL with or
 * without the API root (`/v1`, `/openai`, `/v1beta`) is fine: the dispatcher writes the root once.
 */

/** Operations the gateway writes after a base URL: a URL ending in one names an endpoint, not a base. */
const OPERATIONS = [
  'chat/completions',
  'completions',
  'embeddings',
  'responses',
  'messages',
  'models/[^/]+:[A-Za-z]+',
  'images/generations',
  'audio/[a-z]+',
];
const OPERATION_TAIL = new RegExp(`/(${OPERATIONS.join('|')})$`);

/**
 * The problem with a backend's URL for its kind, with the URL to give instead; undefined when it is usable.
 *
 * @example
 * backendUrlProblem('openai', 'https://api.openai.com/v1/chat/completions')
 * // → 'the url names an operation, not a base: give "https://api.openai.com/v1" (the gateway writes …)'
 */
export function backendUrlProblem(kind: string, url: string): string | undefined {
  if (kind === 'http') return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined; // the URL check itself reports it
  }
  const path = parsed.pathname.replace(/\/+$/, '');
  const base = (p: string): string => `${parsed.origin}${p}`;
  const deployments = /^(.*?)\/openai\/deployments(\/|$)/.exec(path);
  if (deployments)
    return (
      `the url names a deployment, not a base: give the resource endpoint "${base(deployments[1]!)}" ` +
      `(the gateway writes /openai/deployments/{deployment}/… itself; name the deployment in backends[].models)`
    );
  const operation = OPERATION_TAIL.exec(path);
  if (operation) {
    const rest = path.slice(0, operation.index);
    return (
      `the url names an operation, not a base: give "${base(rest)}" ` +
      "(the gateway writes the operation's path itself)"
    );
  }
  if (kind === 'azure-openai' && path.endsWith('/v1')) {
    const endpoint = base(path.replace(/(\/openai)?\/v1$/, ''));
    return (
      `an azure-openai backend is addressed by deployment (/openai/deployments/…); "${url}" is Azure OpenAI's ` +
      `OpenAI-shaped v1 API: use kind "openai" with this url, or give the resource endpoint "${endpoint}"`
    );
  }
  return undefined;
}
