// Secrets first, then the commitment, then the seal: the watermark root (derive.ts) is the owner's
// signature over the INPUT model id; its opening (scheme, parameters, root, salt) is encrypted
// into the home before watermark.committed is appended (signed by the owner's key, src/records),
// so every committed entry can be opened later; then a checkpoint covering the commitment is
// signed, and stamped by an RFC 3161 TSA when one is configured, before any marked model exists.
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import type { JsonObject } from '../../ledger/index.js';
import { canonicalJsonBytes, commitWatermark, deriveWatermarkRoot, encodeOpening, SALT_BYTES, type WatermarkRoot } from '../core/index.js';
import type { ModelId } from '../lineage/index.js';
import { loadSecret, saveSecret, secretsDir } from '../secrets/index.js';
import { stampCheckpoint } from '../tsa/index.js';
import { appendCommitted } from './ledger-records.js';
import type { EmbedHome, EmbedSeal, EmbedTsa, WatermarkScheme } from './types.js';

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
  readonly seal: EmbedSeal;
}

export async function commitWithSecret(o: {
  home: EmbedHome;
  ownerSeed: Uint8Array;
  model: ModelId;
  scheme: WatermarkScheme;
  parameters: JsonObject;
  passphrase: string;
  actor: string;
  tsa?: EmbedTsa;
}): Promise<Committed> {
  const root = deriveWatermarkRoot(o.ownerSeed, o.model);
  const salt = new Uint8Array(randomBytes(SALT_BYTES));
  const opening = { scheme: o.scheme, parameters: o.parameters, root, salt };
  const { digest } = commitWatermark(opening);
  const secretId = watermarkSecretId(digest);
  const secretPath = await saveSecret(o.home.dir, secretId, canonicalJsonBytes(encodeOpening(opening)), o.passphrase);
  const c = appendCommitted(o.home.ledger, { model: o.model, scheme: o.scheme, parameters: o.parameters, root, salt, ownerKey: o.home.ownerVerifierKey, actor: o.actor }, { verifierKey: o.home.ownerVerifierKey, seed: o.ownerSeed });
  return { root, commitment: c.commitment, index: c.index, secretId, secretPath, seal: await sealCommitment(o.home, o.tsa) };
}

/** Commit, then seal: a signed checkpoint (and an RFC 3161 token on it) covering the commitment. */
async function sealCommitment(home: EmbedHome, tsa: EmbedTsa | undefined): Promise<EmbedSeal> {
  if (!tsa) return { checkpointSize: home.ledger.checkpoint().size };
  const r = await stampCheckpoint(home.ledger, home.dir, tsa.url, tsa.caCerts ? { caCerts: tsa.caCerts } : {});
  return { checkpointSize: r.size, timestamp: { genTime: r.info.genTime.toISOString(), tsa: r.info.signer, chainVerified: r.info.chainVerified } };
}
