/**
 * Encodes any string as an Azure Table `PartitionKey`/`RowKey`. Table keys may not contain `/`, `\`,
 * `#`, `?` or control characters (U+0000–U+001F, U+007F–U+009F); those and `%` itself are written as
 * `%XX` (two upper-case hex digits), everything else is kept, so keys stay readable in Storage Explorer
 * and their order follows the original string's order for ordinary ids.
 *
 * Compatibility: part of every stored key format (docs/storage.md). Never change the escaped set
 * without a new key version: readers decode with {@link decodeTableKey}.
 *
 * @example
 * encodeTableKey('pool/a#1'); // → 'pool%2Fa%231'
 */
export function encodeTableKey(value: string): string {
  // Control characters are exactly what Table keys forbid.
  return value.replace(
    // eslint-disable-next-line no-control-regex
    /[/\\#?%\u0000-\u001f\u007f-\u009f]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`,
  );
}

/** The inverse of {@link encodeTableKey}. */
export function decodeTableKey(key: string): string {
  return key.replace(/%([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** Largest epoch-millisecond value a padded time key holds (9999-12-31T23:59:59.999Z). */
export const MAX_KEY_TIME_MS = 253_402_300_799_999;

/**
 * Epoch milliseconds as a fixed-width (15 digits), zero-padded string, so that string order is time order
 * in keys and in string-typed columns (Table compares strings reliably; numbers sent without an EDM type
 * become Int32 or Double at the service's discretion). Clamped to [0, {@link MAX_KEY_TIME_MS}].
 *
 * @example
 * timeKey(1_700_000_000_000); // → '001700000000000'
 */
export function timeKey(ms: number): string {
  const clamped = Math.min(MAX_KEY_TIME_MS, Math.max(0, Math.floor(ms)));
  return String(clamped).padStart(15, '0');
}
