// Shared zod schemas: they validate requests and, through @hono/zod-openapi, become the
// OpenAPI document, so the two cannot drift apart.
import { z } from '@hono/zod-openapi';

export const ErrorSchema = z
  .object({ error: z.object({ code: z.string().openapi({ example: 'API_INVALID_REQUEST' }), message: z.string() }) })
  .openapi('Error');

/** A non-negative decimal integer in a path or query string (no signs, exponents or blanks). */
export const Count = z
  .string()
  .regex(/^(0|[1-9][0-9]{0,15})$/, 'expected a non-negative integer')
  .transform(Number)
  .refine(Number.isSafeInteger, 'integer is too large');

export const Hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lower-case hex digits');

export const JsonObjectSchema = z.record(z.string(), z.unknown()).openapi({ type: 'object', additionalProperties: true });

export const EntrySchema = z
  .object({
    v: z.literal(1),
    index: z.number().int(),
    type: z.string(),
    time: z.string(),
    actor: z.string(),
    prev: z.string().nullable(),
    payload: JsonObjectSchema,
  })
  .openapi('Entry');

export const StoredEntrySchema = z.object({ index: z.number().int(), leafHash: z.string().openapi({ description: 'hex' }), entry: EntrySchema }).openapi('StoredEntry');

export const EntryTypeSchema = z
  .string()
  .max(100)
  .regex(/^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)+$/, 'expected a dotted lower-case name such as "note.added"');
