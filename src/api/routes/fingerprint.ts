// Fingerprinting over HTTP: POST /v1/fingerprints queues a `fingerprint` job (src/fingerprint) for a
// model uploaded through the API, for the roles that may embed (admin, engineer); poll
// GET /v1/jobs/{id} for progress (stage, done, total). Verification with the fingerprint is the
// `verify` job's `fingerprint` option (hallmark verify --fingerprint).
import { z } from '@hono/zod-openapi';
import type { JsonObject } from '../../../ledger/index.js';
import { actorOf, type RouteGroup } from '../context.js';
import { defineRoute } from '../define-route.js';
import { WRITERS } from '../roles.js';
import { requireStoredModel } from '../blob-files.js';
import { BACKENDS } from './embed.js';
import { requirePassphrase } from './evidence.js';
import { JobSchema, submitRecordedJob } from './jobs.js';

const json = <T extends z.ZodType>(schema: T, description: string) => ({ description, content: { 'application/json': { schema } } });
const int = (lo: number, hi: number) => z.number().int().min(lo).max(hi);

export const FingerprintRequest = z.object({
  modelId: z.string().regex(/^model:sha256:[0-9a-f]{64}$/, 'expected model:sha256:<64 hex digits>').openapi({ description: 'a TF.js Layers model registered by upload' }),
  surrogates: int(1, 20).optional(),
  references: int(1, 20).optional(),
  n: int(10, 2000).optional(),
  epsilon: z.number().gt(0).max(1).optional(),
  steps: int(1, 1000).optional(),
  candidates: int(10, 20_000).optional(),
  trainSamples: int(1, 1_000_000).optional(),
  epochs: int(1, 50).optional(),
  seed: int(0, 2 ** 30).optional(),
  backend: z.enum(BACKENDS).optional(),
}).strict().openapi('FingerprintRequest');

export const fingerprintRoutes: RouteGroup = (app, deps) => {
  app.openapi(defineRoute(WRITERS, {
    method: 'post', path: '/v1/fingerprints', tags: ['fingerprint', 'jobs'], summary: 'Before release: generate and commit a fingerprint of an uploaded model, as a job with progress',
    request: { body: { required: true, content: { 'application/json': { schema: FingerprintRequest } } } },
    responses: { 202: json(JobSchema, 'the queued job; poll /v1/jobs/{id}'), 404: json(z.unknown(), 'model not registered'), 503: json(z.unknown(), 'no passphrase on the server') },
  }), async (c) => {
    const body = c.req.valid('json');
    await requireStoredModel(deps.ledger, deps.homeDir, body.modelId);
    requirePassphrase(deps.hasPassphrase);
    return c.json(submitRecordedJob(deps, 'fingerprint', body as unknown as JsonObject, actorOf(c.var.key)) as z.infer<typeof JobSchema>, 202);
  });
};
