// Where the passphrase comes from: HALLMARK_PASSPHRASE for scripts and CI, else a prompt the
// CLI supplies (the library never reads a terminal itself).
import { SecretError } from './errors.js';

export const PASSPHRASE_ENV = 'HALLMARK_PASSPHRASE';

export interface PassphraseSource {
  readonly env?: NodeJS.ProcessEnv;
  /** Asks the user; called only when the environment has no passphrase. */
  readonly prompt?: () => Promise<string>;
}

export async function resolvePassphrase(source: PassphraseSource = {}): Promise<string> {
  const env = source.env ?? process.env;
  const fromEnv = env[PASSPHRASE_ENV];
  if (fromEnv !== undefined && fromEnv.length > 0) return fromEnv;
  if (source.prompt) {
    const answer = await source.prompt();
    if (typeof answer === 'string' && answer.length > 0) return answer;
  }
  throw new SecretError('SECRET_NO_PASSPHRASE', `no passphrase: set ${PASSPHRASE_ENV} or run in a terminal to be asked for one`);
}
