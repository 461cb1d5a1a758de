// The home's owner key as a record signer (src/records) and the keys records are checked against.
import { parseSignerKey, type RecordSigner, type TrustedKeys } from '../records/index.js';
import { readHomeConfig } from './config.js';
import type { Home } from './home.js';

/** Reads owner.key (home.readOwnerSignerKey) and keeps only what signing needs. */
export function ownerRecordSigner(home: Pick<Home, 'readOwnerSignerKey'>): RecordSigner {
  const k = parseSignerKey(home.readOwnerSignerKey());
  return { verifierKey: k.verifierKey, seed: k.seed };
}

/** The owner's key and the service keys config.json lists. */
export function homeTrust(home: { paths: { dir: string }; ownerVerifierKey: string }): TrustedKeys {
  return { owner: home.ownerVerifierKey, service: readHomeConfig(home.paths.dir).serviceKeys };
}
