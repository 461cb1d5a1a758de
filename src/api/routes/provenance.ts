// Provenance proofs for compliance teams: POST builds a model's bundle (lineage entries,
// inclusion proofs, a signed checkpoint, the owner's DSSE-signed SLSA statement) and stores it
// under its SHA-256; GET downloads exactly those bytes, which `hallmark provenance verify`
// checks offline. Building is a scan of lineage entries plus one signature, so it runs inline.
import { z } from '@hono/zod-openapi';
import { sha256 } from '@noble/hashes/sha2.js';
import { toHex } from '../../../ledger/index.js';
import { buildProvenanceBundle, formatBundleJson } from '../../evidence/index.js';
import { listTimestamps } from '../../tsa/index.js';
import { homeWitnessing } from '../../witness/index.js';
import { artifactDownload, storeArtifactBytes } from '../blob-files.js';
import { appendAccess } from '../record-access.js';
import { actorOf, type AppDeps, type RouteGroup } from '../context.js';
import { defineRoute } from '../define-route.js';
import { COMPLIANCE, readersOf } from '../roles.js';
import { Hex64 } from '../schemas.js';
import { apiProvenanceCreated, appendRecord } from '../../records/index.js';

const json = <T extends z.ZodType>(schema: T, description: string) => ({ description, content: { 'application/json': { schema } } });
const ModelId = z.string().regex(/^model:sha256:[0-9a-f]{64}$/, 'expected model:sha256:<64 hex digits>');
const BUNDLE = 'bundle.json';

export const ProvenanceCreated = z.object({
  id: Hex64.openapi({ description: 'SHA-256 of the bundle file; GET /v1/provenance/{id} returns it' }),
  model: z.string(), size: z.number().int(), entries: z.number().int(), timestamps: z.number().int(),
  checkpointSize: z.number().int(), logVerifierKey: z.string(), ownerVerifierKey: z.string(), index: z.number().int(),
}).openapi('ProvenanceCreated');

/** Builds, stores and records a model's bundle (also called by the console, src/console). */
export async function createProvenance(deps: AppDeps, modelId: string, actor: string): Promise<z.infer<typeof ProvenanceCreated>> {
  const { ledger, homeDir } = deps;
  const witnessing = homeWitnessing(homeDir); // issue 15: the cosigned checkpoint and the policy, as the CLI's bundles
  const bundle = buildProvenanceBundle({ ledger, modelId, ownerSignerKey: deps.ownerSignerKey(), timestamps: listTimestamps(homeDir), ...(witnessing ? { witnessing } : {}) });
  const text = formatBundleJson(bundle);
  const bytes = new TextEncoder().encode(text);
  const id = toHex(sha256(bytes));
  // Into the shared blob store: any replica serves it. Same bytes, same name and blob.
  await storeArtifactBytes(homeDir, 'provenance', id, BUNDLE, bytes);
  const checkpointSize = Number(bundle.checkpoint.split('\n')[1]);
  const e = appendRecord(ledger, apiProvenanceCreated, { schema: apiProvenanceCreated.schema, model: bundle.model, bundle: { sha256: id }, checkpointSize }, undefined, actor);
  return {
    id, model: bundle.model, size: bytes.length, entries: bundle.entries.length, timestamps: bundle.timestamps.length, checkpointSize,
    logVerifierKey: bundle.log.verifierKey, ownerVerifierKey: bundle.owner.verifierKey, index: e.index,
  };
}

export const provenanceRoutes: RouteGroup = (app, deps) => {
  const { ledger, homeDir } = deps;

  app.openapi(defineRoute(COMPLIANCE, {
    method: 'post', path: '/v1/provenance', tags: ['provenance'], summary: "Build a model's provenance bundle (verifiable offline with `hallmark provenance verify`)",
    request: { body: { required: true, content: { 'application/json': { schema: z.object({ modelId: ModelId }).strict() } } } },
    responses: { 201: json(ProvenanceCreated, 'the stored bundle'), 404: json(z.unknown(), 'model not registered') },
  }), async (c) => {
    const { modelId } = c.req.valid('json');
    return c.json(await createProvenance(deps, modelId, actorOf(c.var.key)), 201);
  });

  app.openapi(defineRoute(readersOf(COMPLIANCE), {
    method: 'get', path: '/v1/provenance/{id}', tags: ['provenance'], summary: 'Download a provenance bundle (the exact bytes hallmark wrote)',
    request: { params: z.object({ id: Hex64 }) },
    responses: { 200: { description: 'the bundle', content: { 'application/json': { schema: z.unknown() } } }, 404: json(z.unknown(), 'no such bundle') },
  }), async (c) => {
    const { id } = c.req.valid('param');
    const file = await artifactDownload(homeDir, 'provenance', id, BUNDLE);
    appendAccess(ledger, actorOf(c.var.key), { resource: { kind: 'provenance', id, file: BUNDLE, size: file.size }, route: 'GET /v1/provenance/{id}' });
    return (await file.response(`provenance-${id.slice(0, 12)}.json`)) as never;
  });
};
