import { z } from 'zod';

/** The `gwmeta` Blob metadata value once URI-decoded (format version 1; see `blob-payload-store.ts`). */
export const payloadMetaSchema = z.looseObject({
  v: z.literal(1),
  contentType: z.string().optional(),
  attributes: z.record(z.string(), z.string()).optional(),
});
