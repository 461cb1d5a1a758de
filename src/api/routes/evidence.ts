// Ownership evidence for legal teams. POST queues an `evidence.export` job for a
// verification.recorded entry; the job's files (evidence.json, report.pdf, VERIFY.md) are then
// downloaded one by one. evidence.json reveals the model's watermark secret (the commitment
// opening): that disclosure is what makes it evidence, so only legal, admin and the auditor read
// it, and it never appears in a job record, a log line or an error.
import { z } from '@hono/zod-openapi';
import { VERIFICATION_RECORDED } from '../../evidence/index.js';
import { EvidenceError } from '../../evidence/index.js';
import { artifactDownload } from '../blob-files.js';
import { appendAccess } from '../record-access.js';
import { actorOf, type RouteGroup } from '../context.js';
import { defineRoute } from '../define-route.js';
import { ApiError } from '../errors.js';
import { LEGAL, readersOf } from '../roles.js';
import { JobSchema, submitRecordedJob } from './jobs.js';

const json = <T extends z.ZodType>(schema: T, description: string) => ({ description, content: { 'application/json': { schema } } });
export const EVIDENCE_FILES = ['evidence.json', 'report.pdf', 'VERIFY.md'] as const;

/** Refuses work that needs the watermark secrets when the server cannot open them. */
export function requirePassphrase(has: boolean): void {
  if (!has) throw new ApiError('API_NO_PASSPHRASE', 'this server was started without HALLMARK_PASSPHRASE, so it cannot open watermark secrets; ask its operator');
}

export const evidenceRoutes: RouteGroup = (app, deps) => {
  const { ledger, jobs, homeDir } = deps;

  app.openapi(defineRoute(LEGAL, {
    method: 'post', path: '/v1/evidence', tags: ['evidence', 'jobs'], summary: 'Export ownership evidence for a verification.recorded entry, as a job',
    request: { body: { required: true, content: { 'application/json': { schema: z.object({ verification: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER) }).strict() } } } },
    responses: { 202: json(JobSchema, 'the queued job; poll /v1/jobs/{id}, then download its files'), 404: json(z.unknown(), 'no such verification entry'), 503: json(z.unknown(), 'no passphrase on the server') },
  }), (c) => {
    const { verification } = c.req.valid('json');
    // Checked here too, so a wrong index is a 404 now rather than a failed job later.
    if (verification >= ledger.size()) throw new EvidenceError('EVIDENCE_NOT_FOUND', `the ledger has no entry ${verification}`);
    const type = ledger.get(verification).entry.type;
    if (type !== VERIFICATION_RECORDED) throw new EvidenceError('EVIDENCE_NOT_FOUND', `entry ${verification} is a ${type}, not a verification.recorded entry`);
    requirePassphrase(deps.hasPassphrase);
    return c.json(submitRecordedJob(deps, 'evidence.export', { verification }, actorOf(c.var.key)) as z.infer<typeof JobSchema>, 202);
  });

  app.openapi(defineRoute(readersOf(LEGAL), {
    method: 'get', path: '/v1/evidence/{jobId}/files/{name}', tags: ['evidence'], summary: 'Download one file of an evidence export: evidence.json, report.pdf or VERIFY.md',
    request: { params: z.object({ jobId: z.string().uuid('expected a job id (UUID)'), name: z.enum(EVIDENCE_FILES) }) },
    responses: {
      200: { description: 'the file', content: { 'application/json': { schema: z.unknown() }, 'application/pdf': { schema: z.unknown() }, 'text/markdown': { schema: z.unknown() } } },
      404: json(z.unknown(), 'no such job or file'),
    },
  }), async (c) => {
    const { jobId, name } = c.req.valid('param');
    const job = jobs.get(jobId);
    if (job.kind !== 'evidence.export') throw new ApiError('API_NOT_FOUND', `job ${jobId} is a ${job.kind} job, not an evidence export`);
    if (job.status !== 'succeeded') throw new ApiError('API_NOT_FOUND', `job ${jobId} has ${job.status === 'failed' ? 'failed' : 'not finished yet'}; see /v1/jobs/${jobId}`);
    const file = await artifactDownload(homeDir, 'evidence', jobId, name);
    appendAccess(ledger, actorOf(c.var.key), { resource: { kind: 'evidence', id: jobId, file: name, size: file.size }, route: 'GET /v1/evidence/{jobId}/files/{name}' });
    return (await file.response(name)) as never;
  });
};
