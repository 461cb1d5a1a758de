import type { Command } from 'commander';
import { homeDatabaseUrl, initHome, resolveHomeDir } from '../../src/home/index.js';
import { openPgApiStore } from '../../src/api/store/index.js';
import { PgBackend } from '../../src/blobs/index.js';
import { newHomePassphrase } from '../home-passphrase.js';
import { action, emit } from '../output.js';

export function registerInit(program: Command): void {
  program
    .command('init')
    .description('create a home folder: the ledger database, the log signing key and the owner key (both encrypted with the passphrase)')
    .option('--home <dir>', 'home folder (default: $HALLMARK_HOME, else ./.hallmark)')
    .option('--database <url>', 'keep the ledger in PostgreSQL (postgres://...; default: $HALLMARK_DATABASE_URL, else a SQLite file in the home)')
    .option('--json', 'print JSON')
    .action(action(async (opts: { home?: string; database?: string; json?: boolean }) => {
      const passphrase = await newHomePassphrase();
      const r = initHome(resolveHomeDir(opts.home), { passphrase, ...(opts.database ? { database: opts.database } : {}) });
      // In PostgreSQL the API's tables (keys, jobs) are created beside the ledger's, in the same versioned scheme.
      const url = homeDatabaseUrl(r.paths.dir, opts.database);
      if (url) openPgApiStore({ url, create: true }).close();
      // issue 14: the blob tables (stored files) too.
      if (url) await (await PgBackend.open({ url, create: true })).close();
      emit(opts, { home: r.paths.dir, origin: r.origin, logVerifierKey: r.logVerifierKey, ownerVerifierKey: r.ownerVerifierKey, keysEncrypted: r.keysEncrypted }, () =>
        [`Initialised ${r.paths.dir}`, `  log origin:    ${r.origin}`, `  log key:       ${r.logVerifierKey}`, `  owner key:     ${r.ownerVerifierKey}`, '',
          'log.key and owner.key are encrypted with your passphrase (HALLMARK_PASSPHRASE); keep it safe: without it they sign nothing.',
          'Share the verifier keys above.'].join('\n'));
    }));
}
