// Secrets first, then the commitment: the watermark root (derive.ts) is the owner's signature
// over the INPUT model id; its opening (scheme, parameters, root, salt) is encrypted into the
// home before watermark.committed is appended, so every committed entry can be opened later.
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import type { JsonObject } from '../../ledger/index.js';
import { canonicalJsonBytes, commitWatermark, deriveWatermarkRoot, encodeOpening, SALT_BYTES, type WatermarkRoot } from '../core/index.js';
import type { ModelId } from '../lineage/index.js';
import { loadSecret, saveSecret, secretsDir } from '../secrets/index.js';
import { appendCommitted } from './ledger-records.js';
import type { EmbedHome, WatermarkScheme } from './types.js';

/** The secret file id of a commitment: one file per embedding run. */
export function watermarkSecretId(commitment: string): string {
  return `watermark-${commitment}`;
}

/**
 * Refuses a passphrase that does not open the home's existing watermark secrets (each file has
 * its own salt, so any passphrase would "work" for a new one and the owner would end up with
 * secrets under several passphrases). Costs one scrypt when the home holds a secret.
 */
export async function checkPassphrase(homeDir: string, passphrase: string): Promise<void> {
  let names: string[] = [];
  try {
    names = readdirSync(secretsDir(homeDir)).filter((n) => /^watermark-[0-9a-f]{64}\.secret\.json$/.test(n)).sort();
  } catch {
    return; // no secrets folder yet
  }
  const first = names[0];
  if (first) await loadSecret(homeDir, first.slice(0, -'.secret.json'.length), passphrase);
}

export interface Committed {
  readonly root: WatermarkRoot;
  readonly commitment: string;
  readonly index: number;
  readonly secretId: string;
  readonly secretPath: string;
}

export async function commitWithSecret(o: {
  home: EmbedHome;
  ownerSeed: Uint8Array;
  model: ModelId;
  scheme: WatermarkScheme;
  parameters: JsonObject;
  passphrase: string;
  actor: string;
}): Promise<Committed> {
  const root = deriveWatermarkRoot(o.ownerSeed, o.model);
  const salt = new Uint8Array(randomBytes(SALT_BYTES));
  const opening = { scheme: o.scheme, parameters: o.parameters, root, salt };
  const { digest } = commitWatermark(opening);
  const secretId = watermarkSecretId(digest);
  const secretPath = await saveSecret(o.home.dir, secretId, canonicalJsonBytes(encodeOpening(opening)), o.passphrase);
  const c = appendCommitted(o.home.ledger, { model: o.model, scheme: o.scheme, parameters: o.parameters, root, salt, ownerKey: o.home.ownerVerifierKey, actor: o.actor });
  return { root, commitment: c.commitment, index: c.index, secretId, secretPath };
}
