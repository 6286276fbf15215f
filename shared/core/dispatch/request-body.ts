import type { DispatchInput } from './dispatcher.js';

const encoder = new TextEncoder();

/** Request bodies of one call by the model name written into them (a backend's `models` map may rename it). */
export type BodiesByModel = Map<string | undefined, Uint8Array | null>;

/**
 * The body to send to a backend that knows the model as `bodyModel`: the bytes received when the name is
 * unchanged (or the body is not JSON), else the JSON re-serialised with that `model` — once per name per call.
 *
 * @example
 * bodyFor(input, 'gpt-4o-2024-08-06', bodies) // the body with "model":"gpt-4o-2024-08-06", cached in `bodies`
 */
export function bodyFor(
  input: Pick<DispatchInput, 'body' | 'json'>,
  bodyModel: string | undefined,
  cache: BodiesByModel,
): Uint8Array | null {
  if (bodyModel === undefined || input.json === undefined || input.json.model === bodyModel) return input.body;
  let body = cache.get(bodyModel);
  if (body === undefined) {
    body = encoder.encode(JSON.stringify({ ...input.json, model: bodyModel }));
    cache.set(bodyModel, body);
  }
  return body;
}
