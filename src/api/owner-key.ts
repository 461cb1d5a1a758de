// The owner's signer key for routes and jobs that sign (provenance, evidence, embedding). It is
// read from the home folder when needed (opened with the passphrase when the home's keys are
// sealed) and never kept on an object that could be logged.
import { readHomeKey } from '../home/index.js';

export function readOwnerSignerKey(homeDir: string, passphrase?: string): string {
  return readHomeKey(homeDir, 'ownerKey', passphrase);
}
