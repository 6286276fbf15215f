/**
 * Joins byte chunks into one array, in order. A single chunk comes back as is (no copy); pass `totalBytes`
 * when the caller has counted it already. The one byte-concatenation helper of the code base.
 *
 * @example
 * const body = concatBytes(chunks, received);
 */
export function concatBytes(chunks: readonly Uint8Array[], totalBytes?: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  let size = totalBytes;
  if (size === undefined) {
    size = 0;
    for (const chunk of chunks) size += chunk.byteLength;
  }
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
