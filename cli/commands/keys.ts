import type { Command } from 'commander';
import { createRecordedKey, revokeRecordedKey } from '../../src/api/key-admin.js';
import { checkKeyName, checkRole, openKeyStore, type KeyStore } from '../../src/api/keys.js';
import { ROLES } from '../../src/api/roles.js';
import { openApiStore } from '../../src/api/store/index.js';
import { openHome, resolveHomeDir, type Home } from '../../src/home/index.js';
import { action, emit } from '../output.js';

interface Opts {
  home?: string;
  json?: boolean;
}

function withKeys<T>(opts: Opts, fn: (keys: KeyStore, home: Home) => T): T {
  const home = openHome(resolveHomeDir(opts.home));
  let store;
  try {
    // api.db in the home, or the PostgreSQL tables when the home's ledger is there.
    store = openApiStore(home.paths.dir);
  } catch (err) {
    home.close();
    throw err;
  }
  try {
    return fn(openKeyStore(store.keys), home);
  } finally {
    store.close();
    home.close();
  }
}

export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('API keys for "hallmark serve"');
  const common = (c: Command) => c.option('--home <dir>', 'home folder (default: $HALLMARK_HOME, else ./.hallmark)').option('--json', 'print JSON');

  common(keys.command('create').description('create an API key; the key is printed once and never stored')
    .requiredOption('--role <role>', `one of: ${ROLES.join(', ')}`)
    .requiredOption('--name <name>', 'who or what the key is for'))
    .action(action((opts: Opts & { role: string; name: string }) => {
      const input = { role: checkRole(opts.role), name: checkKeyName(opts.name) };
      const out = withKeys(opts, (k, home) => createRecordedKey(k, home.ledger, input, 'cli'));
      emit(opts, out, () => `${out.secret}\n\ncreated key ${out.key.id} (${out.key.role}, "${out.key.name}"), ledger entry ${out.index}.\nThis is the only time the key is shown: store it now.`);
    }));

  common(keys.command('list').description('list API keys (never their secrets)'))
    .action(action((opts: Opts) => {
      const list = withKeys(opts, (k) => k.list());
      emit(opts, { keys: list }, () => (list.length === 0 ? 'no API keys; create one with "hallmark keys create --role admin --name NAME"'
        : list.map((k) => `${k.id}  ${k.role.padEnd(10)}  ${k.revokedAt ? `revoked ${k.revokedAt}` : `created ${k.createdAt}`}  ${k.name}`).join('\n')));
    }));

  common(keys.command('revoke <id>').description('revoke an API key'))
    .action(action((id: string, opts: Opts) => {
      const out = withKeys(opts, (k, home) => revokeRecordedKey(k, home.ledger, id, 'cli'));
      emit(opts, out, () => (out.index === null ? `key ${id} was already revoked` : `revoked key ${id} (ledger entry ${out.index})`));
    }));
}
