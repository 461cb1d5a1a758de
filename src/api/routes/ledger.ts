// The ledger over HTTP. Reads are public, as in a transparency log; proofs and checkpoints use
// the same JSON as `hallmark ledger prove/consistency/checkpoint --json`.
import { z } from '@hono/zod-openapi';
import { consistencyToJson, LedgerError, proofToJson, toBase64, toHex, type JsonObject, type Ledger, type SignedCheckpoint, type StoredEntry } from '../../../ledger/index.js';
import { actorOf, type RouteGroup } from '../context.js';
import { defineRoute } from '../define-route.js';
import { isProtectedType, RecordError } from '../../records/index.js';
import { ApiError } from '../errors.js';
import { WRITERS } from '../roles.js';
import { Count, EntryTypeSchema, JsonObjectSchema, StoredEntrySchema } from '../schemas.js';

const CheckpointSchema = z.object({
  origin: z.string(),
  size: z.number().int(),
  root: z.string().openapi({ description: 'base64 RFC 6962 tree head' }),
  checkpoint: z.string().openapi({ description: 'C2SP signed note' }),
}).openapi('Checkpoint');

const InclusionSchema = z.object({ index: z.number().int(), treeSize: z.number().int(), leafHash: z.string(), hashes: z.array(z.string()), checkpoint: z.string() }).openapi('InclusionProof');
const ConsistencySchema = z.object({ from: z.number().int(), to: z.number().int(), hashes: z.array(z.string()), checkpoint: z.string() }).openapi('ConsistencyProof');

const json = <T extends z.ZodType>(schema: T, description: string) => ({ description, content: { 'application/json': { schema } } });

/**
 * Signed checkpoints for the routes: only ones already stored. Reads are public, and a public
 * read must never make the server sign (checkpoint-policy.ts decides when it signs).
 */
export function checkpointSource(ledger: Ledger, intervalMs = 0) {
  const retry = intervalMs > 0 ? `; the server signs every ${Math.round(intervalMs / 1000)} s and after each write through the API, retry then` : '; retry after the next write through the API';
  const latest = (): SignedCheckpoint => {
    const cp = ledger.latestCheckpoint();
    if (!cp) throw new ApiError('API_NOT_YET_SIGNED', `the log has no signed checkpoint yet${retry}`);
    return cp;
  };
  return {
    current: latest,
    /** The newest stored checkpoint if it includes entry `index`. */
    covering(index: number): SignedCheckpoint {
      const cp = latest();
      if (cp.size > index) return cp;
      if (index >= ledger.size()) throw new LedgerError('LEDGER_OUT_OF_RANGE', `entry ${index} does not exist (the log has ${ledger.size()} entries)`);
      throw new ApiError('API_NOT_YET_SIGNED', `entry ${index} is not yet covered by a signed checkpoint (newest: size ${cp.size})${retry}`);
    },
    /** The stored checkpoint of exactly this size. */
    at(size: number): SignedCheckpoint {
      const cp = latest();
      if (cp.size === size) return cp;
      const stored = size > 0 ? ledger.checkpointCovering(size - 1) : undefined;
      if (!stored || stored.size !== size) throw new LedgerError('LEDGER_OUT_OF_RANGE', `no signed checkpoint of size ${size}; omit the size to prove against the newest checkpoint, or use the size of a checkpoint you hold`);
      return stored;
    },
  };
}

/** Types that have a route which checks their payload. */
const RESERVED: [RegExp, string][] = [
  [/^(model|dataset)\.registered$|^lineage\.derived$/, 'register models and datasets with POST /v1/models or /v1/datasets, which check the record'],
];

function checkAppendable(type: string): void {
  // Protected types (src/records registry) are written, signed, only by the code that computes them.
  if (isProtectedType(type)) throw new RecordError('RECORD_PROTECTED', `entry type "${type}" is written only by hallmark's own ${type.split('.')[0]} code, signed by the owner's key; the generic append refuses it`);
  for (const [re, why] of RESERVED) if (re.test(type)) throw new ApiError('API_INVALID_REQUEST', `entry type "${type}" cannot be appended here: ${why}`);
}

export const entryJson = (e: StoredEntry) => ({ index: e.index, leafHash: toHex(e.leafHash), entry: e.entry as unknown as z.infer<typeof StoredEntrySchema>['entry'] });

export const ledgerRoutes: RouteGroup = (app, { ledger, checkpointIntervalMs }) => {
  const checkpoints = checkpointSource(ledger, checkpointIntervalMs);
  app.openapi(defineRoute('public', {
    method: 'get', path: '/v1/ledger/checkpoint', tags: ['ledger'], summary: 'The newest signed checkpoint (the server signs on its own schedule, never on a read)',
    responses: { 200: json(CheckpointSchema, 'the newest signed checkpoint'), 503: json(z.unknown(), 'no checkpoint signed yet') },
  }), (c) => {
    const cp = checkpoints.current();
    return c.json({ origin: cp.origin, size: cp.size, root: toBase64(cp.root), checkpoint: cp.note }, 200);
  });

  app.openapi(defineRoute('public', {
    method: 'get', path: '/v1/ledger/pubkey', tags: ['ledger'], summary: "The log's verifier key",
    responses: { 200: json(z.object({ verifierKey: z.string(), origin: z.string() }), 'the note verifier key') },
  }), (c) => c.json({ verifierKey: ledger.verifierKey, origin: ledger.origin }, 200));

  app.openapi(defineRoute('public', {
    method: 'get', path: '/v1/ledger/entries/{index}', tags: ['ledger'], summary: 'One entry',
    request: { params: z.object({ index: Count }) },
    responses: { 200: json(StoredEntrySchema, 'the entry'), 404: json(z.unknown(), 'no such entry') },
  }), (c) => c.json(entryJson(ledger.get(c.req.valid('param').index)), 200));

  app.openapi(defineRoute('public', {
    method: 'get', path: '/v1/ledger/proof/inclusion', tags: ['ledger'], summary: 'Inclusion proof of an entry: in the tree of `size`, else in the newest signed checkpoint (503 until one covers the entry)',
    request: { query: z.object({ index: Count, size: Count.optional() }) },
    responses: { 200: json(InclusionSchema, 'RFC 6962 inclusion proof with the checkpoint it proves against'), 404: json(z.unknown(), 'no such entry or tree size') },
  }), (c) => {
    const q = c.req.valid('query');
    const cp = q.size === undefined ? checkpoints.covering(q.index) : checkpoints.at(q.size);
    return c.json(proofToJson(ledger.inclusionProof(q.index, cp.size), cp.note) as z.infer<typeof InclusionSchema>, 200);
  });

  app.openapi(defineRoute('public', {
    method: 'get', path: '/v1/ledger/proof/consistency', tags: ['ledger'], summary: 'Consistency proof between two tree sizes',
    request: { query: z.object({ from: Count, to: Count.optional() }) },
    responses: { 200: json(ConsistencySchema, 'RFC 6962 consistency proof with the newer checkpoint'), 404: json(z.unknown(), 'no such tree size') },
  }), (c) => {
    const q = c.req.valid('query');
    const cp = q.to === undefined ? checkpoints.current() : checkpoints.at(q.to);
    return c.json(consistencyToJson(ledger.consistencyProof(q.from, cp.size), cp.note) as z.infer<typeof ConsistencySchema>, 200);
  });

  app.openapi(defineRoute(WRITERS, {
    method: 'post', path: '/v1/ledger/entries', tags: ['ledger'], summary: 'Append a typed entry (actor: the calling key)',
    request: { body: { required: true, content: { 'application/json': { schema: z.object({ type: EntryTypeSchema, payload: JsonObjectSchema }).strict() } } } },
    responses: { 201: json(StoredEntrySchema, 'the appended entry') },
  }), (c) => {
    const body = c.req.valid('json');
    checkAppendable(body.type);
    const e = ledger.append({ type: body.type, actor: actorOf(c.var.key), payload: body.payload as JsonObject });
    return c.json(entryJson(e), 201);
  });
};
