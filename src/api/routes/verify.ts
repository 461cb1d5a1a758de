// Verification over HTTP. A suspect is an uploaded file (PUT /v1/uploads/suspects/{fileName},
// stored but not registered as one of our models) or an inference endpoint (Open Inference
// Protocol v2 or TF Serving). POST /v1/verify and /v1/calibrate queue jobs and share the
// per-key verification rate limit. An endpoint URL makes this server send requests where the
// caller says (SSRF): only http/https, no credentials in the URL, and an operator can pin the
// allowed hosts with `endpointHosts` (hallmark serve --endpoint-hosts).
import { z } from '@hono/zod-openapi';
import type { JsonObject } from '../../../ledger/index.js';
import { actorOf, type AppDeps, type RouteGroup } from '../context.js';
import { defineRoute } from '../define-route.js';
import { ApiError } from '../errors.js';
import { VERIFIERS } from '../roles.js';
import { Hex64 } from '../schemas.js';
import { receiveUpload } from '../upload.js';
import { checkUploadedModel, claimedFormat } from '../upload-format.js';
import { BACKENDS } from './embed.js';
import { requirePassphrase } from './evidence.js';
import { JobSchema, submitRecordedJob } from './jobs.js';
import { uploadExists } from '../blob-files.js';
import { apiSuspectUploaded, appendRecord } from '../../records/index.js';

const json = <T extends z.ZodType>(schema: T, description: string) => ({ description, content: { 'application/json': { schema } } });
const int = (lo: number, hi: number) => z.number().int().min(lo).max(hi);
const octetStream = { required: true, content: { 'application/octet-stream': { schema: { type: 'string' as const, format: 'binary' } } } };

const UploadedSuspect = z.object({ upload: Hex64, name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'expected the file name given at upload') }).strict();
const EndpointSuspect = z.object({
  url: z.string().max(2000),
  protocol: z.enum(['oip-v2', 'tfserving']),
  model: z.string().max(200).optional(),
  inputName: z.string().max(200).optional(),
  layout: z.enum(['NHWC', 'NCHW']).optional(),
}).strict();

export const VerifyRequest = z.object({
  suspect: z.union([UploadedSuspect, EndpointSuspect]),
  commitment: int(0, Number.MAX_SAFE_INTEGER).optional().openapi({ description: 'watermark.committed entry index (default: the latest)' }),
  fingerprint: z.union([z.literal(true), int(0, Number.MAX_SAFE_INTEGER)]).optional().openapi({ description: 'also test a committed fingerprint: true for the latest fingerprint.committed entry, or its index (hallmark verify --fingerprint)' }),
  method: z.enum(['auto', 'white-box', 'black-box', 'both']).optional(),
  alpha: z.number().gt(0).lt(1).optional(),
  timeoutMs: int(100, 60_000).optional(),
  maxRequests: int(1, 1000).optional(),
}).strict().openapi('VerifyRequest');

export const CalibrateRequest = z.object({
  commitment: int(0, Number.MAX_SAFE_INTEGER).optional(),
  models: int(1, 20).optional(),
  epochs: int(1, 10).optional(),
  trainSamples: int(100, 8000).optional(),
  backend: z.enum(BACKENDS).optional(),
}).strict().openapi('CalibrateRequest');

/** The SSRF guard: scheme, credentials and the optional host allow-list. */
export function checkEndpoint(raw: string, deps: AppDeps): void {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ApiError('API_INVALID_REQUEST', 'body.suspect.url: not an absolute URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ApiError('API_INVALID_REQUEST', 'body.suspect.url: only http and https endpoints can be verified');
  if (url.username || url.password) throw new ApiError('API_INVALID_REQUEST', 'body.suspect.url: credentials in the URL are refused (they would be recorded)');
  if (deps.endpointHosts && !deps.endpointHosts.includes(url.host)) throw new ApiError('API_FORBIDDEN', `body.suspect.url: host ${url.host.slice(0, 100)} is not on this server's endpoint allow-list`);
}

export const verifyRoutes: RouteGroup = (app, deps) => {
  const { ledger, homeDir, limits } = deps;

  app.openapi(defineRoute(VERIFIERS, {
    method: 'put', path: '/v1/uploads/suspects/{fileName}', tags: ['verify'], summary: 'Upload a suspect model file for verification (stored under its SHA-256, not registered as a model)',
    request: { params: z.object({ fileName: z.string() }), body: octetStream },
    responses: { 201: json(z.object({ upload: Hex64, name: z.string(), size: z.number().int(), index: z.number().int() }), 'the stored suspect; pass {upload, name} as the suspect of POST /v1/verify'), 413: json(z.unknown(), 'too large'), 415: json(z.unknown(), 'not application/octet-stream'), 429: json(z.unknown(), 'rate limited') },
  }, [deps.rateLimit.upload]), async (c) => {
    const { fileName } = c.req.valid('param');
    const up = await receiveUpload(c.req.raw, { homeDir, area: 'suspects', fileName, maxBytes: limits.uploadBytes });
    // A suspect whose name claims a format must parse as it (other names: the job reports it).
    const format = claimedFormat(fileName);
    if (format) await checkUploadedModel(up.tempPath, format, fileName).catch(async (err: unknown) => { await up.discard(); throw err; });
    await up.commit();
    const e = appendRecord(ledger, apiSuspectUploaded, { schema: apiSuspectUploaded.schema, name: fileName, digest: { sha256: up.sha256 }, size: up.size }, undefined, actorOf(c.var.key));
    return c.json({ upload: up.sha256, name: fileName, size: up.size, index: e.index }, 201);
  });

  app.openapi(defineRoute(VERIFIERS, {
    method: 'post', path: '/v1/verify', tags: ['verify', 'jobs'], summary: 'Verify an uploaded suspect or an inference endpoint, as a job; the result is the verification record',
    request: { body: { required: true, content: { 'application/json': { schema: VerifyRequest } } } },
    responses: { 202: json(JobSchema, 'the queued job; poll /v1/jobs/{id}'), 404: json(z.unknown(), 'no such upload'), 429: json(z.unknown(), 'rate limited'), 503: json(z.unknown(), 'no passphrase on the server') },
  }, [deps.rateLimit.verify]), async (c) => {
    const body = c.req.valid('json');
    if ('upload' in body.suspect) {
      if (!(await uploadExists(homeDir, 'suspects', body.suspect.upload, body.suspect.name))) throw new ApiError('API_NOT_FOUND', `no uploaded suspect ${body.suspect.upload.slice(0, 12)}.../${body.suspect.name}; upload it with PUT /v1/uploads/suspects/{fileName}`);
    } else {
      checkEndpoint(body.suspect.url, deps);
    }
    requirePassphrase(deps.hasPassphrase);
    return c.json(submitRecordedJob(deps, 'verify', body as unknown as JsonObject, actorOf(c.var.key)) as z.infer<typeof JobSchema>, 202);
  });

  app.openapi(defineRoute(VERIFIERS, {
    method: 'post', path: '/v1/calibrate', tags: ['verify', 'jobs'], summary: 'Measure the trigger-set null on freshly trained unmarked models, as a job (appends calibration.recorded)',
    request: { body: { required: true, content: { 'application/json': { schema: CalibrateRequest } } } },
    responses: { 202: json(JobSchema, 'the queued job'), 429: json(z.unknown(), 'rate limited'), 503: json(z.unknown(), 'no passphrase on the server') },
  }, [deps.rateLimit.verify]), (c) => {
    const body = c.req.valid('json');
    requirePassphrase(deps.hasPassphrase);
    return c.json(submitRecordedJob(deps, 'calibrate', body as unknown as JsonObject, actorOf(c.var.key)) as z.infer<typeof JobSchema>, 202);
  });
};
