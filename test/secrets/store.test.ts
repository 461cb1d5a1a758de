// The encrypted store on a real temporary folder: round trip, the documented format decrypted
// with node:crypto's scrypt and HMAC, wrong passphrases, tampering, and no plaintext on disk.
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { createHmac, scryptSync } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import canonicalize from 'canonicalize';
import { afterAll, describe, expect, it } from 'vitest';
import { deriveWatermarkRoot } from '../../src/core/derive.js';
import { watermarkRootFromBytes, watermarkRootToBytes } from '../../src/core/secret-material.js';
import { hasSecret, loadSecret, resolvePassphrase, saveSecret, SecretError, secretPath, secretsDir } from '../../src/secrets/index.js';

const home = mkdtempSync(join(tmpdir(), 'hallmark-secrets-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

const PASS = 'correct horse battery staple';
const root = deriveWatermarkRoot(new Uint8Array(32).fill(21), 'fixture-cnn');
const material = watermarkRootToBytes(root);
/** Cheaper scrypt for tests about everything but the default cost (which two tests use). */
const FAST = { kdf: { N: 2 ** 12, r: 8, p: 1 } };

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof SecretError) return e.code;
    throw e;
  }
  return 'no error';
}

describe('saveSecret / loadSecret', () => {
  it('round trips, 0600 file in a 0700 folder, no temporary files left', async () => {
    const path = await saveSecret(home, 'model-a', material, PASS);
    expect(path).toBe(secretPath(home, 'model-a'));
    expect(hasSecret(home, 'model-a')).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(secretsDir(home)).mode & 0o777).toBe(0o700);
    expect(readdirSync(secretsDir(home))).toEqual(['model-a.secret.json']);
    expect(watermarkRootFromBytes(await loadSecret(home, 'model-a', PASS))).toEqual(root);
  });

  it('follows the documented format: node:crypto scrypt + HMAC, XChaCha20-Poly1305 with the header as AAD', async () => {
    const path = await saveSecret(home, 'model-doc', material, PASS);
    const f = JSON.parse(readFileSync(path, 'utf8'));
    expect(f).toMatchObject({ type: 'hallmark.secret', version: 1, id: 'model-doc', kdf: { name: 'scrypt', N: 32768, r: 8, p: 1 }, cipher: { name: 'xchacha20-poly1305' } });
    const master = scryptSync(PASS, Buffer.from(f.kdf.salt, 'base64'), 64, { N: f.kdf.N, r: f.kdf.r, p: f.kdf.p, maxmem: 2 ** 27 });
    const check = createHmac('sha256', master.subarray(32)).update('hallmark/secret/v1/check').digest().subarray(0, 16);
    expect(check.toString('base64')).toBe(f.check);
    const aad = Buffer.from(canonicalize({ type: f.type, version: f.version, id: f.id, kdf: f.kdf, cipher: f.cipher })!);
    const plain = xchacha20poly1305(master.subarray(0, 32), Buffer.from(f.cipher.nonce, 'base64'), aad).decrypt(Buffer.from(f.ciphertext, 'base64'));
    expect(Buffer.from(plain)).toEqual(Buffer.from(material));
  });

  it('the file never holds the plaintext, in any encoding, nor the passphrase', async () => {
    const secret = new Uint8Array(200).map((_, i) => (i * 37 + 11) & 0xff);
    const path = await saveSecret(home, 'raw', secret, PASS, FAST);
    const raw = readFileSync(path);
    const text = raw.toString('utf8');
    for (let i = 0; i + 8 <= secret.length; i++) expect(raw.includes(Buffer.from(secret.subarray(i, i + 8)))).toBe(false);
    for (const enc of ['base64', 'hex', 'base64url'] as const) expect(text).not.toContain(Buffer.from(secret.subarray(0, 30)).toString(enc).slice(0, 16));
    expect(text).not.toContain(PASS);
    expect(text).not.toContain(Buffer.from(root.signature).toString('base64').slice(0, 16));
  });

  it('a wrong passphrase is SECRET_BAD_PASSPHRASE, one line, no secret in it', async () => {
    const wrong = 'Tr0ub4dor&3-wrong';
    try {
      await loadSecret(home, 'model-a', wrong);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(SecretError);
      const err = e as SecretError;
      expect(err.code).toBe('SECRET_BAD_PASSPHRASE');
      expect(err.message).not.toContain('\n');
      for (const s of [wrong, PASS, Buffer.from(material).toString('utf8'), Buffer.from(root.signature).toString('base64')]) expect(err.message).not.toContain(s);
    }
  });

  it('altered ciphertext, nonce or id are detected', async () => {
    const path = await saveSecret(home, 'model-t', material, PASS, FAST);
    const good = readFileSync(path, 'utf8');
    const f = JSON.parse(good);
    const ct = Buffer.from(f.ciphertext, 'base64');
    ct[5]! ^= 0x01;
    writeFileSync(path, JSON.stringify({ ...f, ciphertext: ct.toString('base64') }));
    expect(await codeOf(loadSecret(home, 'model-t', PASS))).toBe('SECRET_TAMPERED');
    const nonce = Buffer.from(f.cipher.nonce, 'base64');
    nonce[0]! ^= 0x80;
    writeFileSync(path, JSON.stringify({ ...f, cipher: { ...f.cipher, nonce: nonce.toString('base64') } }));
    expect(await codeOf(loadSecret(home, 'model-t', PASS))).toBe('SECRET_TAMPERED');
    // a file copied under another id
    writeFileSync(secretPath(home, 'model-u'), good);
    expect(await codeOf(loadSecret(home, 'model-u', PASS))).toBe('SECRET_TAMPERED');
    writeFileSync(secretPath(home, 'model-u'), JSON.stringify({ ...f, id: 'model-u' }));
    expect(await codeOf(loadSecret(home, 'model-u', PASS))).toBe('SECRET_TAMPERED');
  });

  it('refuses to overwrite unless asked, and rejects unsafe ids', async () => {
    expect(await codeOf(saveSecret(home, 'model-a', material, PASS))).toBe('SECRET_EXISTS');
    await saveSecret(home, 'model-a', new Uint8Array([1, 2, 3]), 'new pass', { overwrite: true, ...FAST });
    expect(Array.from(await loadSecret(home, 'model-a', 'new pass'))).toEqual([1, 2, 3]);
    for (const id of ['../escape', '.hidden', 'a/b', '', 'x'.repeat(200)]) expect(() => secretPath(home, id)).toThrow(RangeError);
    expect(await codeOf(loadSecret(home, 'absent', PASS))).toBe('SECRET_NOT_FOUND');
  });

  it('corrupt, oversized-cost and future-version files are typed errors before any scrypt', async () => {
    const path = await saveSecret(home, 'model-c', material, PASS, FAST);
    const f = JSON.parse(readFileSync(path, 'utf8'));
    const cases: [unknown, string][] = [
      ['not json', 'SECRET_CORRUPT'],
      [{ ...f, kdf: { ...f.kdf, N: 2 ** 30 } }, 'SECRET_CORRUPT'],
      [{ ...f, kdf: { ...f.kdf, N: 3000 } }, 'SECRET_CORRUPT'],
      [{ ...f, cipher: { ...f.cipher, nonce: 'AAAA' } }, 'SECRET_CORRUPT'],
      [{ ...f, ciphertext: 'AAAA' }, 'SECRET_CORRUPT'],
      [{ ...f, version: 2 }, 'SECRET_UNSUPPORTED_VERSION'],
    ];
    for (const [doc, code] of cases) {
      writeFileSync(path, typeof doc === 'string' ? doc : JSON.stringify(doc));
      expect(await codeOf(loadSecret(home, 'model-c', PASS))).toBe(code);
    }
  });
});

describe('resolvePassphrase', () => {
  it('takes HALLMARK_PASSPHRASE first, then the prompt, else SECRET_NO_PASSPHRASE', async () => {
    let asked = 0;
    const prompt = async () => {
      asked++;
      return 'typed';
    };
    expect(await resolvePassphrase({ env: { HALLMARK_PASSPHRASE: 'from-env' }, prompt })).toBe('from-env');
    expect(asked).toBe(0);
    expect(await resolvePassphrase({ env: {}, prompt })).toBe('typed');
    expect(await codeOf(resolvePassphrase({ env: {} }))).toBe('SECRET_NO_PASSPHRASE');
    expect(await codeOf(resolvePassphrase({ env: { HALLMARK_PASSPHRASE: '' }, prompt: async () => '' }))).toBe('SECRET_NO_PASSPHRASE');
  });
});
