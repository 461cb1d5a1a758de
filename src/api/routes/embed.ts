// Embedding over HTTP: POST queues an `embed` job for a model uploaded through the API; poll
// GET /v1/jobs/{id} for progress (phase, epoch, batch, loss, BER, trigger accuracy); download
// the marked model's files (marked.onnx, or a TF.js model.json + weights) from the job.
import { z } from '@hono/zod-openapi';
import type { JsonObject } from '../../../ledger/index.js';
import { artifactDownload, requireStoredModel } from '../blob-files.js';
import { appendAccess } from '../record-access.js';
import { actorOf, type RouteGroup } from '../context.js';
import { defineRoute } from '../define-route.js';
import { ApiError } from '../errors.js';
import { readersOf, WRITERS } from '../roles.js';
import { requirePassphrase } from './evidence.js';
import { JobSchema, submitRecordedJob } from './jobs.js';

const json = <T extends z.ZodType>(schema: T, description: string) => ({ description, content: { 'application/json': { schema } } });
const int = (lo: number, hi: number) => z.number().int().min(lo).max(hi);
/** train/backend.ts's BACKEND_CHOICES, spelled out so the server does not load TensorFlow.js to validate a request. */
export const BACKENDS = ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'] as const;

/** Input names as the model declares them; at most 16 inputs named per field. */
const byInput = <T extends z.ZodType>(value: T) => z.record(z.string().min(1).max(200), value).refine((r) => Object.keys(r).length <= 16, 'at most 16 inputs');

/** What the training-free fidelity measurement feeds inputs it cannot synthesise (the CLI's --input-* flags). */
export const CalibrationRequest = z.object({
  count: int(1, 100_000).optional().openapi({ description: 'calibration inputs (feeds) the fidelity is measured on (default 256)' }),
  fixed: byInput(z.number().finite()).optional().openapi({ description: 'a fixed value per input (non-float inputs such as a sample rate or a recurrent state)' }),
  dims: byInput(z.array(int(1, 10_000_000)).min(1).max(8).refine((d) => d.reduce((a, b) => a * b, 1) <= 2 ** 26, 'too many elements')).optional().openapi({ description: 'the full shape of one feed per input (dynamic axes need one)' }),
  ranges: byInput(z.tuple([z.number().finite(), z.number().finite()]).refine(([lo, hi]) => lo < hi, 'needs lo < hi')).optional().openapi({ description: 'range [lo, hi) of synthetic uniform values per input (default [0, 1))' }),
  signals: byInput(z.enum(['uniform', 'audio'])).optional().openapi({ description: "'audio' feeds synthetic tones, chirps and noise" }),
  sampleRate: int(1000, 384_000).optional(),
}).strict();

export const EmbedRequest = z.object({
  modelId: z.string().regex(/^model:sha256:[0-9a-f]{64}$/, 'expected model:sha256:<64 hex digits>').openapi({ description: 'a model registered by upload (PUT /v1/uploads/models/{fileName})' }),
  scheme: z.enum(['weight', 'trigger', 'both']).optional(),
  trainingFree: z.boolean().optional().openapi({ description: 'weight mark by a minimum-norm change, no training (ONNX, safetensors)' }),
  dataset: z.literal('mnist').optional().openapi({ description: 'training data for fine-tuning; the built-in MNIST is the one the API offers' }),
  epochs: int(1, 50).optional(),
  backend: z.enum(BACKENDS).optional(),
  bits: int(1, 4096).optional(),
  triggers: int(1, 10_000).optional(),
  lambda: z.number().gt(0).max(1000).optional().openapi({ description: 'fine-tuning: weight of the weight-mark loss against the task loss (default 1; pretrained backbones: 10)' }),
  layer: z.string().max(200).optional(),
  tensor: z.string().max(500).optional(),
  trainLimit: int(1, 1_000_000).optional().openapi({ description: 'fine-tune on at most this many samples' }),
  testLimit: int(1, 1_000_000).optional().openapi({ description: 'measure accuracy on at most this many samples' }),
  limits: z.object({
    minTop1Agreement: z.number().min(0).max(1).optional().openapi({ description: 'training-free: refuse if fewer top-1 answers than this stay the same (default 0.99)' }),
    maxAbsChange: z.number().min(0).max(1e6).optional().openapi({ description: 'training-free: refuse if any output value moves by more than this' }),
  }).strict().optional(),
  calibration: CalibrationRequest.optional(),
}).strict().openapi('EmbedRequest');

export const embedRoutes: RouteGroup = (app, deps) => {
  const { ledger, jobs, homeDir } = deps;

  app.openapi(defineRoute(WRITERS, {
    method: 'post', path: '/v1/embed', tags: ['embed', 'jobs'], summary: 'Embed the owner\'s watermarks in an uploaded model, as a job with progress',
    request: { body: { required: true, content: { 'application/json': { schema: EmbedRequest } } } },
    responses: { 202: json(JobSchema, 'the queued job; poll /v1/jobs/{id}'), 404: json(z.unknown(), 'model not registered'), 503: json(z.unknown(), 'no passphrase on the server') },
  }), async (c) => {
    const body = c.req.valid('json');
    await requireStoredModel(ledger, homeDir, body.modelId);
    requirePassphrase(deps.hasPassphrase);
    return c.json(submitRecordedJob(deps, 'embed', body as unknown as JsonObject, actorOf(c.var.key)) as z.infer<typeof JobSchema>, 202);
  });

  app.openapi(defineRoute(readersOf(WRITERS), {
    method: 'get', path: '/v1/embed/{jobId}/files/{name}', tags: ['embed'], summary: 'Download one file of the marked model (names are in the job result)',
    request: { params: z.object({ jobId: z.string().uuid('expected a job id (UUID)'), name: z.string().max(200) }) },
    responses: { 200: { description: 'the file', content: { 'application/octet-stream': { schema: z.unknown() } } }, 404: json(z.unknown(), 'no such job or file') },
  }), async (c) => {
    const { jobId, name } = c.req.valid('param');
    const job = jobs.get(jobId);
    if (job.kind !== 'embed') throw new ApiError('API_NOT_FOUND', `job ${jobId} is a ${job.kind} job, not an embedding`);
    if (job.status !== 'succeeded') throw new ApiError('API_NOT_FOUND', `job ${jobId} has ${job.status === 'failed' ? 'failed' : 'not finished yet'}; see /v1/jobs/${jobId}`);
    const file = await artifactDownload(homeDir, 'embed', jobId, name);
    appendAccess(ledger, actorOf(c.var.key), { resource: { kind: 'model', id: jobId, file: name, size: file.size }, route: 'GET /v1/embed/{jobId}/files/{name}' });
    return (await file.response(name)) as never;
  });
};
