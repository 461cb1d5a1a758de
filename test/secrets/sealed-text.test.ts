// The home's sealed keys use the secret store's format: a file saved by saveSecret (noble's async
// scrypt) opens with openSealedText (Node's native scrypt) and the other way round, a wrong
// passphrase and an altered file are told apart, and the header (id, KDF) is bound.
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSecret, newSalt, openSealedText, saveSecret, sealText } from '../../src/secrets/index.js';

const KDF = { N: 2 ** 10, r: 8, p: 1 };
const dir = mkdtempSync(join(tmpdir(), 'hm-sealed-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('sealed text', () => {
  it('opens what the secret store saved, and the store opens what it sealed', async () => {
    const text = 'PRIVATE+KEY+example+00000000+AQ==\n';
    await saveSecret(dir, 'from-store', new TextEncoder().encode(text), 'pw', { kdf: KDF });
    expect(openSealedText(readFileSync(join(dir, 'secrets', 'from-store.secret.json'), 'utf8'), 'from-store', 'pw', 'x')).toBe(text);
    mkdirSync(join(dir, 'secrets'), { recursive: true });
    writeFileSync(join(dir, 'secrets', 'sealed.secret.json'), sealText('sealed', text, 'pw', { kdf: KDF }));
    expect(new TextDecoder().decode(await loadSecret(dir, 'sealed', 'pw'))).toBe(text);
  });

  it('tells a wrong passphrase from an altered file, and binds the id', () => {
    const salt = newSalt();
    const a = sealText('a', 'alpha', 'pw', { kdf: KDF, salt });
    const b = sealText('b', 'beta', 'pw', { kdf: KDF, salt });
    expect(JSON.parse(a).kdf.salt).toBe(JSON.parse(b).kdf.salt);
    expect(JSON.parse(a).cipher.nonce).not.toBe(JSON.parse(b).cipher.nonce);
    expect(openSealedText(b, 'b', 'pw', 'b')).toBe('beta');
    expect(() => openSealedText(a, 'a', 'PW', 'a')).toThrow(expect.objectContaining({ code: 'SECRET_BAD_PASSPHRASE' }));
    expect(() => openSealedText(a, 'b', 'pw', 'a')).toThrow(expect.objectContaining({ code: 'SECRET_TAMPERED' }));
    const j = JSON.parse(a) as { ciphertext: string };
    const flipped = Buffer.from(j.ciphertext, 'base64');
    flipped[0] ^= 1;
    expect(() => openSealedText(JSON.stringify({ ...j, ciphertext: flipped.toString('base64') }), 'a', 'pw', 'a')).toThrow(expect.objectContaining({ code: 'SECRET_TAMPERED' }));
    const renamed = JSON.stringify({ ...JSON.parse(b), id: 'a' });
    expect(() => openSealedText(renamed, 'a', 'pw', 'b')).toThrow(expect.objectContaining({ code: 'SECRET_TAMPERED' }));
  });
});
