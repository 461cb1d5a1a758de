// The owner's signer key for routes and jobs that sign (provenance, evidence, embedding). It is
// read from the home folder when needed and never kept on an object that could be logged.
import { existsSync, readFileSync } from 'node:fs';
import { homePaths, HomeError } from '../home/index.js';

export function readOwnerSignerKey(homeDir: string): string {
  const path = homePaths(homeDir).ownerKey;
  if (!existsSync(path)) throw new HomeError('HOME_NOT_FOUND', 'the home folder has no owner key; run "hallmark init"');
  return readFileSync(path, 'utf8').trim();
}
