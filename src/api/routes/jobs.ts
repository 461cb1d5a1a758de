// Jobs over HTTP: status, progress, result or failure reason. Routes that start work (the ledger
// audit here; embedding, verification and calibration later) call submitRecordedJob, which
// records the submission in the ledger under the caller's key.
import { z } from '@hono/zod-openapi';
import type { JsonObject } from '../../../ledger/index.js';
import type { AppDeps, RouteGroup } from '../context.js';
import { defineRoute } from '../define-route.js';
import { JOB_STATUSES, type JobInfo } from '../jobs.js';
import { ANY_ROLE, AUDITORS } from '../roles.js';
import { JsonObjectSchema } from '../schemas.js';
import { apiJobSubmitted, appendRecord } from '../../records/index.js';

export const JobSchema = z.object({
  id: z.string(), kind: z.string(), status: z.enum(JOB_STATUSES as [string, ...string[]]), actor: z.string(),
  params: JsonObjectSchema, progress: JsonObjectSchema.nullable(), result: JsonObjectSchema.nullable(),
  error: z.object({ code: z.string(), message: z.string() }).nullable(), createdAt: z.string(), updatedAt: z.string(),
  // PostgreSQL replicas: how many runs, who runs it now, whose lease expired (docs/postgres.md).
  attempts: z.number().int(), replica: z.string().nullable(), takenOverFrom: z.array(z.string()),
}).openapi('Job');

const json = <T extends z.ZodType>(schema: T, description: string) => ({ description, content: { 'application/json': { schema } } });

/** Queues a job and records `api.job-submitted` (kind and job id, never the parameters). */
export function submitRecordedJob(deps: AppDeps, kind: string, params: JsonObject, actor: string): JobInfo {
  const job = deps.jobs.submit(kind, params, actor);
  appendRecord(deps.ledger, apiJobSubmitted, { schema: apiJobSubmitted.schema, jobId: job.id, kind }, undefined, actor);
  return job;
}

export const jobRoutes: RouteGroup = (app, deps) => {
  const { jobs } = deps;
  app.openapi(defineRoute(ANY_ROLE, {
    method: 'get', path: '/v1/jobs', tags: ['jobs'], summary: 'List jobs, newest first',
    request: { query: z.object({ status: z.enum(JOB_STATUSES as [string, ...string[]]).optional(), kind: z.string().max(100).optional(), limit: z.string().regex(/^[1-9][0-9]{0,3}$/, 'expected 1-1000').transform(Number).optional() }) },
    responses: { 200: json(z.object({ jobs: z.array(JobSchema) }), 'jobs') },
  }), (c) => {
    const q = c.req.valid('query');
    return c.json({ jobs: jobs.list({ status: q.status as JobInfo['status'] | undefined, kind: q.kind, limit: q.limit }) as z.infer<typeof JobSchema>[] }, 200);
  });

  app.openapi(defineRoute(ANY_ROLE, {
    method: 'get', path: '/v1/jobs/{id}', tags: ['jobs'], summary: 'One job: status, progress, result or failure',
    request: { params: z.object({ id: z.string().uuid('expected a job id (UUID)') }) },
    responses: { 200: json(JobSchema, 'the job'), 404: json(z.unknown(), 'no such job') },
  }), (c) => c.json(jobs.get(c.req.valid('param').id) as z.infer<typeof JobSchema>, 200));

  app.openapi(defineRoute(AUDITORS, {
    method: 'post', path: '/v1/ledger/audit', tags: ['ledger', 'jobs'], summary: 'Start a full ledger audit as a job',
    responses: { 202: json(JobSchema, 'the queued job; poll /v1/jobs/{id}') },
  }), (c) => c.json(submitRecordedJob(deps, 'ledger.audit', {}, `key:${c.var.key!.id}`) as z.infer<typeof JobSchema>, 202));
};
