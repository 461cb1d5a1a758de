// The spellings a secret could leak in: hex (both cases), base64, base64url (with and without
// padding). A test collects them for secrets it knows and scans every response and log line.
import { expect } from 'vitest';

export function secretForms(secrets: readonly (Uint8Array | string)[]): string[] {
  const out: string[] = [];
  for (const s of secrets) {
    if (typeof s === 'string') { out.push(s); continue; }
    const b = Buffer.from(s);
    const b64 = b.toString('base64');
    out.push(b.toString('hex'), b.toString('hex').toUpperCase(), b64, b64.replace(/=+$/, ''), b.toString('base64url'));
  }
  // A shorter form could match by chance; every form of a 32-byte secret is over 40 characters.
  return [...new Set(out)].filter((f) => f.length >= 16);
}

export function expectNoSecret(text: string, forms: readonly string[], where: string): void {
  for (const f of forms) expect(text.includes(f), `${where} contains a secret (${f.slice(0, 6)}...)`).toBe(false);
}
