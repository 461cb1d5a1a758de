// Where a fingerprint set lives: <home>/secrets/fingerprint-<commitment>.secret.json, encrypted
// by src/secrets exactly as watermark openings are.
import { readdirSync } from 'node:fs';
import { loadSecret, secretsDir } from '../secrets/index.js';

export function fingerprintSecretId(commitment: string): string {
  return `fingerprint-${commitment}`;
}

/**
 * Refuses a passphrase that does not open the secrets already in the home (watermark or
 * fingerprint): each file has its own salt, so a new file would take any passphrase and the owner
 * would end up with secrets under several. Costs one scrypt when the home holds a secret.
 */
export async function checkFingerprintPassphrase(homeDir: string, passphrase: string): Promise<void> {
  let names: string[] = [];
  try {
    names = readdirSync(secretsDir(homeDir)).filter((f) => /^(watermark|fingerprint)-[0-9a-f]{64}\.secret\.json$/.test(f)).sort();
  } catch {
    return; // no secrets folder yet
  }
  const first = names[0];
  if (first) await loadSecret(homeDir, first.slice(0, -'.secret.json'.length), passphrase);
}
