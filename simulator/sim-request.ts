import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestRule } from './fault-book.js';
import { parseFaultSpec, splitModelSpec } from './fault-grammar.js';
import { formatFaultSpec, type FaultSpec } from './fault-spec.js';
import type { Route } from './route-table.js';

const MAX_BODY_BYTES = 32 * 1024 * 1024;

/** The request has gone: the client closed the socket or the simulator destroyed it. */
export function gone(res: ServerResponse): boolean {
  return res.destroyed || res.socket === null || res.socket.destroyed;
}

/** A request target split at its `?`. */
export function splitTarget(rawUrl: string): { readonly path: string; readonly query: string } {
  const q = rawUrl.indexOf('?');
  return q < 0 ? { path: rawUrl, query: '' } : { path: rawUrl.slice(0, q), query: rawUrl.slice(q + 1) };
}

/** Reads the body up to a bound; `null` when too large, `undefined` when the client went away first. */
export function readBody(req: IncomingMessage): Promise<string | null | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (action: () => void): void => {
      if (settled) return;
      settled = true;
      action();
    };
    req.on('data', (chunk: Buffer) => {
      if (settled) return;
      size += chunk.length;
      if (size > MAX_BODY_BYTES) settle(() => resolve(null));
      else chunks.push(chunk);
    });
    req.on('end', () =>
      settle(() =>
        resolve(
          chunks.length === 1 ? (chunks[0] as Buffer).toString('utf8') : Buffer.concat(chunks, size).toString('utf8'),
        ),
      ),
    );
    req.on('close', () => settle(() => resolve(undefined)));
    req.on('error', (error) => settle(() => reject(error)));
  });
}

/** A request body read as a JSON object: `{}` when empty, with what is wrong with it when it is not one. */
export interface JsonBody {
  readonly body: Record<string, unknown>;
  readonly problem: string | null;
}

/** No body read (not a POST, or no route): an empty object, nothing wrong. */
export const NO_BODY: JsonBody = { body: {}, problem: null };

/** Reads a POST body as a JSON object; `'too-large'` past the bound, `'gone'` when the client left first. */
export async function readJsonBody(req: IncomingMessage): Promise<JsonBody | 'too-large' | 'gone'> {
  const text = await readBody(req);
  if (text === undefined) return 'gone';
  if (text === null) return 'too-large';
  if (text.trim() === '') return NO_BODY;
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed))
      return { body: parsed as Record<string, unknown>, problem: null };
    return { body: {}, problem: 'The request body must be a JSON object.' };
  } catch {
    return { body: {}, problem: 'We could not parse the JSON body of your request.' };
  }
}

/** The model a generate request names (body first, then the path) and the fault spec appended to it. */
export function requestedModel(
  route: Route | null,
  body: Record<string, unknown>,
): { readonly model: string | null; readonly modelSpec: string | null } {
  if (route?.action !== 'generate') return { model: null, modelSpec: null };
  const requested = typeof body.model === 'string' && body.model !== '' ? body.model : route.pathModel;
  if (requested === null) return { model: null, modelSpec: null };
  const split = splitModelSpec(requested);
  return { model: split.model, modelSpec: split.spec };
}

/**
 * The request's own fault spec: `?sim-fault=`, then the model suffix, then `x-sim-fault`, later ones overriding.
 * Null when the request scripts none. @throws {FaultSpecError} on a spec that does not parse.
 */
export function requestFaultRule(
  req: IncomingMessage,
  params: URLSearchParams | null,
  modelSpec: string | null,
): RequestRule | null {
  const headerSpec = req.headers['x-sim-fault'];
  const querySpec = params?.get('sim-fault') ?? null;
  if (headerSpec === undefined && modelSpec === null && querySpec === null) return null;
  const spec: FaultSpec = {};
  if (querySpec !== null) Object.assign(spec, parseFaultSpec(querySpec));
  if (modelSpec !== null) Object.assign(spec, parseFaultSpec(modelSpec));
  if (headerSpec !== undefined)
    Object.assign(spec, parseFaultSpec(Array.isArray(headerSpec) ? headerSpec.join(';') : headerSpec));
  return { spec, text: formatFaultSpec(spec) };
}

/** The request's headers as one string each (repeated ones joined), for the attempts log. */
export function headersOf(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/** True when the request carries the key in any of the places the simulated APIs take it. */
export function authorized(req: IncomingMessage, params: URLSearchParams | null, key: string): boolean {
  const h = req.headers;
  return (
    h['api-key'] === key ||
    h['x-api-key'] === key ||
    h['x-goog-api-key'] === key ||
    h.authorization === `Bearer ${key}` ||
    params?.get('key') === key
  );
}
