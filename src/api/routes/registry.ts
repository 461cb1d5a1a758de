// Models and datasets: register by upload (the server hashes what it stores) or by digest and
// URI, inspect, and follow a model's lineage. Records and lineage come from src/lineage, so the
// API and the CLI write the same entries.
import { z } from '@hono/zod-openapi';
import type { JsonObject } from '../../../ledger/index.js';
import { findDataset, findModel, lineageOf, LineageError, registerDataset, registerModel, type ResourceDescriptor } from '../../lineage/index.js';
import { actorOf, type RouteGroup } from '../context.js';
import { defineRoute } from '../define-route.js';
import { ApiError } from '../errors.js';
import { ANY_ROLE, WRITERS } from '../roles.js';
import { Count, Hex64, JsonObjectSchema } from '../schemas.js';
import { receiveUpload, removeStored } from '../upload.js';
import { checkUploadedModel } from '../upload-format.js';

const json = <T extends z.ZodType>(schema: T, description: string) => ({ description, content: { 'application/json': { schema } } });

const Descriptor = z.object({
  name: z.string().min(1).max(200),
  digest: z.object({ sha256: Hex64 }).strict(),
  uri: z.string().max(2000).optional(),
  mediaType: z.string().max(200).optional(),
  annotations: JsonObjectSchema.optional(),
}).strict().openapi('ResourceDescriptor');

const Format = z.string().regex(/^[a-z0-9][a-z0-9.-]{0,39}$/, 'expected a short lower-case format name such as "onnx"');
const ModelId = z.string().regex(/^model:sha256:[0-9a-f]{64}$/, 'expected model:sha256:<64 hex digits>');
const DatasetId = z.string().regex(/^dataset:sha256:[0-9a-f]{64}$/, 'expected dataset:sha256:<64 hex digits>');

const Derivation = z.object({
  operation: z.string().regex(/^[a-z][a-z0-9-]{0,63}$/, 'expected a lower-case operation such as "fine-tune"'),
  baseModels: z.array(ModelId).max(64).optional(),
  datasets: z.array(DatasetId).max(64).optional(),
}).strict();

const Registered = z.object({ id: z.string(), index: z.number().int(), time: z.string().optional(), record: JsonObjectSchema, stored: z.object({ path: z.string(), size: z.number().int() }).optional() }).openapi('Registered');

const UploadQuery = z.object({
  name: z.string().min(1).max(200).optional(),
  mediaType: z.string().max(200).optional(),
});

const EXTENSION_FORMATS: Record<string, string> = { onnx: 'onnx', safetensors: 'safetensors', json: 'tfjs-layers' };

function formatFor(fileName: string, given?: string): string {
  if (given) return given;
  const ext = fileName.toLowerCase().split('.').pop() ?? '';
  const f = EXTENSION_FORMATS[ext];
  if (!f) throw new ApiError('API_INVALID_REQUEST', `cannot tell the model format from "${fileName}"; pass ?format=onnx (or safetensors, tfjs-layers, ...)`);
  return f;
}

const octetStream = { required: true, content: { 'application/octet-stream': { schema: { type: 'string' as const, format: 'binary' } } } };

export const registryRoutes: RouteGroup = (app, deps) => {
  const { ledger, homeDir, limits } = deps;

  /** Streams, hashes, stores, then registers; a refused registration removes what was stored. */
  async function uploadThen<T>(req: Request, area: 'models' | 'datasets', fileName: string, exists: (sha: string) => boolean, register: (d: ResourceDescriptor, stored: { path: string; size: number }) => T, format?: string): Promise<T> {
    const up = await receiveUpload(req, { homeDir, area, fileName, maxBytes: limits.uploadBytes });
    if (format !== undefined) {
      try {
        await checkUploadedModel(up.tempPath, format, fileName);
      } catch (err) {
        await up.discard();
        throw err;
      }
    }
    if (exists(up.sha256)) {
      await up.discard();
      throw new LineageError('LINEAGE_EXISTS', `a ${area === 'models' ? 'model' : 'dataset'} with sha256 ${up.sha256} is already registered`);
    }
    const stored = await up.commit();
    try {
      return register({ name: fileName, digest: { sha256: up.sha256 } }, { path: stored.path, size: up.size });
    } catch (err) {
      if (stored.created) await removeStored(homeDir, stored.path);
      throw err;
    }
  }

  app.openapi(defineRoute(WRITERS, {
    method: 'put', path: '/v1/uploads/models/{fileName}', tags: ['models'], summary: 'Upload a model file and register it (streamed, hashed, size-limited)',
    request: { params: z.object({ fileName: z.string() }), query: UploadQuery.extend({ format: Format.optional() }), body: octetStream },
    responses: { 201: json(Registered, 'the model.registered entry'), 409: json(z.unknown(), 'already registered'), 413: json(z.unknown(), 'too large'), 415: json(z.unknown(), 'not application/octet-stream'), 429: json(z.unknown(), 'rate limited') },
  }, [deps.rateLimit.upload]), async (c) => {
    const { fileName } = c.req.valid('param');
    const q = c.req.valid('query');
    const format = formatFor(fileName, q.format);
    const out = await uploadThen(c.req.raw, 'models', fileName, (sha) => findModel(ledger, `model:sha256:${sha}`) !== undefined, (d, stored) => {
      const model = { ...d, name: q.name ?? d.name, ...(q.mediaType ? { mediaType: q.mediaType } : {}), annotations: { 'hallmark.stored': stored.path, 'hallmark.size': stored.size } };
      const r = registerModel(ledger, { model, format, actor: actorOf(c.var.key) });
      return { id: r.record.id, index: r.index, time: r.time, record: r.record as unknown as JsonObject, stored };
    }, format);
    return c.json(out, 201);
  });

  app.openapi(defineRoute(WRITERS, {
    method: 'post', path: '/v1/models', tags: ['models'], summary: 'Register a model by digest and URI (optionally derived from registered models and datasets)',
    request: { body: { required: true, content: { 'application/json': { schema: z.object({ model: Descriptor, format: Format, tensors: z.object({ count: z.number().int().min(0), root: Hex64 }).strict().optional(), derivedFrom: Derivation.optional() }).strict() } } } },
    responses: { 201: json(Registered.extend({ derivation: z.object({ index: z.number().int() }).optional() }), 'the model.registered entry'), 409: json(z.unknown(), 'already registered') },
  }), (c) => {
    const b = c.req.valid('json');
    const actor = actorOf(c.var.key);
    const r = registerModel(ledger, {
      model: b.model as ResourceDescriptor, format: b.format, actor,
      ...(b.tensors ? { tensors: b.tensors } : {}),
      ...(b.derivedFrom ? { derivation: { ...b.derivedFrom, actor } } : {}),
    });
    return c.json({ id: r.record.id, index: r.index, time: r.time, record: r.record as unknown as JsonObject, ...(r.derivation ? { derivation: { index: r.derivation.index } } : {}) }, 201);
  });

  app.openapi(defineRoute(ANY_ROLE, {
    method: 'get', path: '/v1/models/{id}', tags: ['models'], summary: 'A registered model',
    request: { params: z.object({ id: ModelId }) },
    responses: { 200: json(Registered, 'the registration'), 404: json(z.unknown(), 'not registered') },
  }), (c) => {
    const id = c.req.valid('param').id;
    const f = findModel(ledger, id);
    if (!f) throw new LineageError('LINEAGE_NOT_FOUND', `model ${id} is not registered in this ledger`);
    return c.json({ id, index: f.index, time: f.time, record: f.record as unknown as JsonObject }, 200);
  });

  app.openapi(defineRoute(ANY_ROLE, {
    method: 'get', path: '/v1/models/{id}/lineage', tags: ['models'], summary: "A model's lineage: derivations, base models and datasets, recursively",
    request: { params: z.object({ id: ModelId }) },
    responses: { 200: json(JsonObjectSchema, 'the lineage tree'), 404: json(z.unknown(), 'not registered') },
  }), (c) => c.json(lineageOf(ledger, c.req.valid('param').id) as unknown as JsonObject, 200));

  app.openapi(defineRoute(WRITERS, {
    method: 'put', path: '/v1/uploads/datasets/{fileName}', tags: ['datasets'], summary: 'Upload a dataset file and register it (its digest is the file\'s SHA-256)',
    request: { params: z.object({ fileName: z.string() }), query: UploadQuery.extend({ items: Count }), body: octetStream },
    responses: { 201: json(Registered, 'the dataset.registered entry'), 409: json(z.unknown(), 'already registered'), 413: json(z.unknown(), 'too large'), 415: json(z.unknown(), 'not application/octet-stream'), 429: json(z.unknown(), 'rate limited') },
  }, [deps.rateLimit.upload]), async (c) => {
    const { fileName } = c.req.valid('param');
    const q = c.req.valid('query');
    const out = await uploadThen(c.req.raw, 'datasets', fileName, (sha) => findDataset(ledger, `dataset:sha256:${sha}`) !== undefined, (d, stored) => {
      const dataset = { ...d, name: q.name ?? d.name, ...(q.mediaType ? { mediaType: q.mediaType } : {}), annotations: { 'hallmark.stored': stored.path, 'hallmark.size': stored.size, 'hallmark.digestOf': 'file' } };
      const r = registerDataset(ledger, { dataset, items: q.items, actor: actorOf(c.var.key) });
      return { id: r.record.id, index: r.index, time: r.time, record: r.record as unknown as JsonObject, stored };
    });
    return c.json(out, 201);
  });

  app.openapi(defineRoute(WRITERS, {
    method: 'post', path: '/v1/datasets', tags: ['datasets'], summary: 'Register a dataset by its manifest root and URI',
    request: { body: { required: true, content: { 'application/json': { schema: z.object({ dataset: Descriptor, items: z.number().int().min(0) }).strict() } } } },
    responses: { 201: json(Registered, 'the dataset.registered entry'), 409: json(z.unknown(), 'already registered') },
  }), (c) => {
    const b = c.req.valid('json');
    const r = registerDataset(ledger, { dataset: b.dataset as ResourceDescriptor, items: b.items, actor: actorOf(c.var.key) });
    return c.json({ id: r.record.id, index: r.index, time: r.time, record: r.record as unknown as JsonObject }, 201);
  });

  app.openapi(defineRoute(ANY_ROLE, {
    method: 'get', path: '/v1/datasets/{id}', tags: ['datasets'], summary: 'A registered dataset',
    request: { params: z.object({ id: DatasetId }) },
    responses: { 200: json(Registered, 'the registration'), 404: json(z.unknown(), 'not registered') },
  }), (c) => {
    const id = c.req.valid('param').id;
    const f = findDataset(ledger, id);
    if (!f) throw new LineageError('LINEAGE_NOT_FOUND', `dataset ${id} is not registered in this ledger`);
    return c.json({ id, index: f.index, time: f.time, record: f.record as unknown as JsonObject }, 200);
  });
};
