import { FIELDS_BY_KEY, FaultSpecError, isFaultKind, setFaultField, type FaultSpec } from './fault-spec.js';

/**
 * Parses the compact text form of a fault spec.
 *
 * ```
 * spec  = item *( ";" item )          ; blanks around items are ignored, empty items skipped
 * item  = key "=" value               ; keys are case-insensitive, see FAULT_FIELDS
 *       | status                      ; 400..599, same as status=<n>
 *       | kind                        ; reset | hang | cut | stall | malformed | no-done | context-length
 *                                     ; | content-filter | deployment-not-found | prefill-rejected
 *       | "requeue"                   ; same as requeue=true
 *       | "once"                      ; same as times=1
 * ```
 * `fault=<status>` is accepted as a synonym of `status=<status>`.
 *
 * @throws {FaultSpecError} on an unknown key, a bad value, or a key given twice.
 * @example parseFaultSpec('429;retry-after-ms=200') // → { status: 429, retryAfterMs: 200 }
 * @example parseFaultSpec('fault=cut;after=3;tokens=10') // → { fault: 'cut', afterTokens: 3, completionTokens: 10 }
 */
export function parseFaultSpec(text: string): FaultSpec {
  const spec: FaultSpec = {};
  const seen = new Set<string>();
  const items = text.split(';');
  if (items.length > 64) throw new FaultSpecError('too many items (max 64)');
  for (const raw of items) {
    const item = raw.trim();
    if (item === '') continue;
    const eq = item.indexOf('=');
    let key = (eq < 0 ? item : item.slice(0, eq)).trim().toLowerCase();
    let value: string | undefined = eq < 0 ? undefined : item.slice(eq + 1).trim();
    if (value === undefined) {
      if (/^\d{3}$/.test(key)) {
        value = key;
        key = 'status';
      } else if (isFaultKind(key)) {
        value = key;
        key = 'fault';
      } else if (key === 'once') {
        value = '1';
        key = 'times';
      }
    } else if (key === 'fault' && /^\d{3}$/.test(value)) {
      key = 'status';
    } else if (key === 'fault') {
      value = value.toLowerCase();
    }
    const def = FIELDS_BY_KEY.get(key);
    if (!def) throw new FaultSpecError(`unknown key ${JSON.stringify(key)}`);
    if (value === undefined && def.type !== 'flag') throw new FaultSpecError(`${key}: a value is required`);
    if (seen.has(def.field)) throw new FaultSpecError(`${key}: given twice`);
    seen.add(def.field);
    setFaultField(spec, def, value);
  }
  return spec;
}

/** A model name split at its first `#` into the real model and the fault spec text. */
export interface ModelWithSpec {
  /** The model name without the suffix. */
  readonly model: string;
  /** The text after `#`, or null when there is none. */
  readonly spec: string | null;
}

/**
 * Splits `gpt-4o-mini#429;retry-after-ms=200` into `gpt-4o-mini` and `429;retry-after-ms=200`.
 *
 * @example splitModelSpec('gpt-4o') // → { model: 'gpt-4o', spec: null }
 */
export function splitModelSpec(model: string): ModelWithSpec {
  const hash = model.indexOf('#');
  if (hash < 0) return { model, spec: null };
  const spec = model.slice(hash + 1).trim();
  return { model: model.slice(0, hash), spec: spec === '' ? null : spec };
}
