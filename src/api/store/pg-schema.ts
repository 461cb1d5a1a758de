// The API's tables in PostgreSQL (keys, jobs, job attempts), in the same versioned scheme as the
// ledger's (hallmark_migrations, component 'api'; ledger/pg-schema.ts runs them).
import type pg from 'pg';
import { LedgerError } from '../../../ledger/errors.js';
import { migrateComponent } from '../../../ledger/pg-schema.js';

export const API_SCHEMA_VERSION = 1;

const MIGRATIONS = [
  {
    version: 1,
    sql: `
CREATE TABLE api_keys (
  id text PRIMARY KEY,
  name text NOT NULL,
  role text NOT NULL,
  hash bytea NOT NULL,
  created_at text NOT NULL,
  revoked_at text
);
-- The job queue: any replica claims the oldest queued job with FOR UPDATE SKIP LOCKED and holds
-- it with a lease (claimed_by, lease_until in database time) that it heartbeats while it runs.
CREATE TABLE api_jobs (
  seq bigserial UNIQUE,
  id text PRIMARY KEY,
  kind text NOT NULL,
  status text NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
  actor text NOT NULL,
  params text NOT NULL,
  progress text,
  result text,
  error_code text,
  error_message text,
  created_at text NOT NULL,
  updated_at text NOT NULL,
  attempts integer NOT NULL DEFAULT 0,
  claimed_by text,
  lease_until timestamptz,
  taken_over_from text[] NOT NULL DEFAULT '{}',
  CHECK ((status = 'running') = (claimed_by IS NOT NULL))
);
CREATE INDEX api_jobs_queue ON api_jobs (status, seq);
CREATE INDEX api_jobs_newest ON api_jobs (seq DESC);
-- What happened to each claim: succeeded, failed, lost (its lease expired and another replica
-- took the job over) or released (its replica shut down cleanly and queued it again).
CREATE TABLE api_job_attempts (
  job_id text NOT NULL REFERENCES api_jobs (id),
  attempt integer NOT NULL,
  replica text NOT NULL,
  started_at timestamptz NOT NULL DEFAULT now(),
  ended_at timestamptz,
  outcome text CHECK (outcome IN ('succeeded', 'failed', 'lost', 'released', 'abandoned')),
  PRIMARY KEY (job_id, attempt)
);`,
  },
];

/** Creates or upgrades the API tables (`create`), or checks that they are at this code's version. */
export function migrateApi(client: pg.ClientBase, schema: string, create: boolean): Promise<number> {
  return migrateComponent(client, schema, create, {
    component: 'api',
    migrations: MIGRATIONS,
    fail: (code, message) => new LedgerError(code, message),
    tooNew: (found) => new LedgerError('LEDGER_UNSUPPORTED_VERSION', `the database's API schema (keys, jobs) is version ${found}, newer than this hallmark understands (${API_SCHEMA_VERSION}); upgrade hallmark on every replica before starting it`),
    missing: (before) => `the API schema (keys, jobs) is version ${before} in schema "${schema}"; run "hallmark init --database ..." or "hallmark serve" to create or migrate it`,
  });
}
