// `hallmark init --database` puts the ledger in PostgreSQL (the connection string is never
// written to the home); later commands find it through HALLMARK_DATABASE_URL and refuse, with
// a clear message, to run without it.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import { hallmark, hallmarkJson } from '../helpers/cli.js';

// `hallmark init` seals the home's keys under a passphrase; every command here opens them with it.
process.env.HALLMARK_PASSPHRASE ||= 'test passphrase';

const url = inject('postgresUrl');

describe('hallmark init --database', () => {
  // Five CLI runs, each starting node and the database worker: minutes on a loaded machine.
  it('keeps the ledger in PostgreSQL and the secrets outside it', { timeout: 600_000 }, async () => {
    const home = join(mkdtempSync(join(tmpdir(), 'hm-pgcli-')), 'home');
    const init = hallmarkJson<{ origin: string; logVerifierKey: string }>(['init', '--database', url], { home });
    const config = readFileSync(join(home, 'config.json'), 'utf8');
    expect(JSON.parse(config)).toMatchObject({ ledgerStore: 'postgres' });
    expect(config).not.toContain(url.split('@')[0]!.split(':').pop()!); // the password
    const payload = join(home, 'p.json');
    writeFileSync(payload, JSON.stringify({ text: 'hello' }));
    const env = { HALLMARK_DATABASE_URL: url };
    hallmarkJson(['ledger', 'append', '--type', 'note.added', '--payload', payload], { home, env });
    hallmarkJson(['ledger', 'checkpoint'], { home, env });
    const verify = hallmarkJson<{ ok: boolean; size: number }>(['ledger', 'verify'], { home, env });
    expect(verify).toMatchObject({ ok: true, size: 1 });

    // The rows are in the database, not in a file of the home.
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      const r = await c.query(`SELECT (SELECT value FROM hallmark.ledger_meta WHERE key = 'origin') AS origin, (SELECT count(*)::int FROM hallmark.ledger_entries) AS n, (SELECT count(*)::int FROM hallmark.ledger_meta WHERE value LIKE 'PRIVATE%') AS secrets`);
      expect(r.rows[0]).toEqual({ origin: init.origin, n: 1, secrets: 0 });
    } finally {
      await c.end();
    }

    const without = hallmark(['ledger', 'verify'], { home, env: { HALLMARK_DATABASE_URL: '' } });
    expect(without.status).not.toBe(0);
    expect(without.stderr).toMatch(/is in PostgreSQL; set HALLMARK_DATABASE_URL/);
  });
});
