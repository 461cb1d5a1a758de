import type { Command } from 'commander';
import { encryptHomeKeys, resolveHomeDir } from '../../src/home/index.js';
import { newHomePassphrase } from '../home-passphrase.js';
import { action, emit } from '../output.js';

export function registerHome(program: Command): void {
  const home = program.command('home').description('the home folder itself');
  home.command('encrypt-keys')
    .description('encrypt the plaintext owner.key and log.key of a home made by an older version, and make every file in it private (0600, folders 0700)')
    .option('--home <dir>', 'home folder (default: $HALLMARK_HOME, else ./.hallmark)')
    .option('--json', 'print JSON')
    .action(action(async (opts: { home?: string; json?: boolean }) => {
      const passphrase = await newHomePassphrase();
      const r = encryptHomeKeys(resolveHomeDir(opts.home), passphrase);
      emit(opts, r, () => `encrypted ${r.sealed.join(' and ')}; every file in the home is now 0600, every folder 0700`);
    }));
}
