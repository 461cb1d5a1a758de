// The home's passphrase on the command line: HALLMARK_PASSPHRASE, else (in a terminal) a prompt
// that does not echo. Asked once per run, before the command, only when the home's keys are
// sealed; the answer is put where every later step looks for it (the environment of this process).
import { existsSync } from 'node:fs';
import { homeKeysEncrypted, homePaths, resolveHomeDir } from '../src/home/index.js';
import { PASSPHRASE_ENV, SecretError } from '../src/secrets/index.js';
import { promptPassphrase } from './commands/prompt-passphrase.js';

const fromEnv = () => {
  const v = process.env[PASSPHRASE_ENV];
  return v !== undefined && v.length > 0 ? v : undefined;
};

/** Before a command that opens a home: prompts for the passphrase if the keys are sealed and none is set. */
export async function preparePassphrase(homeFlag: string | undefined): Promise<void> {
  if (fromEnv() || !process.stdin.isTTY) return;
  const dir = resolveHomeDir(homeFlag);
  const paths = homePaths(dir);
  if (!existsSync(paths.logKey) || !existsSync(paths.ownerKey)) return;
  let sealed = false;
  try {
    sealed = homeKeysEncrypted(dir);
  } catch {
    return; // the command itself reports a broken home
  }
  if (!sealed) return;
  const answer = await promptPassphrase(`Passphrase for ${dir}: `);
  if (answer.length > 0) process.env[PASSPHRASE_ENV] = answer;
}

/** The passphrase a new home is sealed with: HALLMARK_PASSPHRASE, else asked twice in a terminal. */
export async function newHomePassphrase(): Promise<string> {
  const env = fromEnv();
  if (env) return env;
  if (!process.stdin.isTTY) {
    throw new SecretError('SECRET_NO_PASSPHRASE', `no passphrase: set ${PASSPHRASE_ENV} or run in a terminal to be asked for one; it encrypts owner.key, log.key and the watermark secrets`);
  }
  const first = await promptPassphrase('New passphrase for this home (encrypts owner.key, log.key and watermark secrets): ');
  if (first.length === 0) throw new SecretError('SECRET_NO_PASSPHRASE', 'the passphrase must not be empty');
  const again = await promptPassphrase('The same passphrase again: ');
  if (again !== first) throw new SecretError('SECRET_NO_PASSPHRASE', 'the two passphrases differ; run "hallmark init" again');
  process.env[PASSPHRASE_ENV] = first;
  return first;
}
