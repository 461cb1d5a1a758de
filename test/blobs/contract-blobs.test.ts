// The blob store contract, run against both stores (a folder, a PostgreSQL schema): content
// addressed by the plaintext SHA-256, sealed at rest, and every attack on the stored chunks a
// typed error, never wrong bytes: a flipped byte, swapped chunks, a truncated blob, a chunk from
// another blob, an edited header, a wrong passphrase or key file.
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { BlobError, type BlobStore, type SealedBlobStore } from '../../src/blobs/index.js';
import { BLOB_STORES } from './stores.js';

vi.setConfig({ testTimeout: 120_000 });

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const PASS = { passphrase: 'blob contract passphrase' };
const CHUNK = 1024;
const MARKER = Buffer.from('HALLMARK-PLAINTEXT-MARKER-7f3a91');

/** Bytes with the marker repeated through them, so any plaintext chunk at rest would show it. */
function marked(size: number): Buffer {
  const b = randomBytes(size);
  for (let at = 0; at + MARKER.length <= size; at += 300) MARKER.copy(b, at);
  return b;
}

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(BlobError);
    return (err as BlobError).code;
  }
  throw new Error('expected a BlobError, the call succeeded');
}

async function drain(store: BlobStore, digest: string): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const c of (await store.open(digest)).chunks) parts.push(c);
  return Buffer.concat(parts);
}

describe.each(BLOB_STORES)('blob store contract: $name', (s) => {
  it('stores bytes and files under their SHA-256 and gives them back exactly', async () => {
    const store = await s.open(s.fresh(), PASS, CHUNK);
    try {
      for (const size of [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 5 * CHUNK + 17]) {
        const bytes = marked(size);
        const r = await store.put(bytes);
        expect(r).toEqual({ sha256: sha(bytes), size, created: true });
        expect(await store.has(r.sha256)).toBe(true);
        expect(Buffer.from(await store.get(r.sha256)).equals(bytes)).toBe(true);
        expect((await drain(store, r.sha256)).equals(bytes)).toBe(true);
        expect(await store.put(bytes)).toEqual({ sha256: r.sha256, size, created: false });
      }
      const dir = mkdtempSync(join(tmpdir(), 'hm-blob-file-'));
      const bytes = marked(3 * CHUNK + 5);
      writeFileSync(join(dir, 'in.bin'), bytes);
      const r = await store.put({ path: join(dir, 'in.bin') }, { sha256: sha(bytes) });
      expect(r.sha256).toBe(sha(bytes));
      await store.toFile(r.sha256, join(dir, 'out.bin'));
      expect(readFileSync(join(dir, 'out.bin')).equals(bytes)).toBe(true);
      expect(await code(store.put({ path: join(dir, 'in.bin') }, { sha256: sha(Buffer.from('other')) }))).toBe('BLOB_MISMATCH');
      expect(await store.has(sha(Buffer.from('never stored')))).toBe(false);
      expect(await code(store.get(sha(Buffer.from('never stored'))))).toBe('BLOB_NOT_FOUND');
      expect(await code(store.get('../../etc/passwd'))).toBe('BLOB_BAD_NAME');
      expect(await store.remove(r.sha256)).toBe(true);
      expect(await store.has(r.sha256)).toBe(false);
    } finally {
      await store.close();
    }
  });

  it('keeps names (area/id/file) that point at blobs, and refuses names that are paths', async () => {
    const store = await s.open(s.fresh(), PASS, CHUNK);
    try {
      const a = await store.put(Buffer.from('a'));
      const b = await store.put(Buffer.from('bb'));
      await store.link('artifacts/evidence/job_1/report.pdf', a);
      await store.link('artifacts/evidence/job_1/VERIFY.md', b);
      await store.link('artifacts/evidence/job_10/x.json', b);
      expect(await store.resolve('artifacts/evidence/job_1/report.pdf')).toEqual({ sha256: a.sha256, size: 1 });
      expect((await store.list('artifacts/evidence/job_1')).map((x) => x.name)).toEqual(['artifacts/evidence/job_1/VERIFY.md', 'artifacts/evidence/job_1/report.pdf']);
      expect(await store.resolve('artifacts/evidence/job_1/none')).toBeUndefined();
      for (const bad of ['../x', 'a/../b', '/abs', 'a//b', '.hidden', 'a/b\\c']) expect(await code(store.link(bad, a))).toBe('BLOB_BAD_NAME');
      expect(await store.unlink('artifacts/evidence/job_1/report.pdf')).toBe(true);
      expect(await store.resolve('artifacts/evidence/job_1/report.pdf')).toBeUndefined();
    } finally {
      await store.close();
    }
  });

  it('holds no plaintext and no plaintext digest at rest', async () => {
    const loc = s.fresh();
    const store = await s.open(loc, PASS, CHUNK);
    try {
      const bytes = marked(8 * CHUNK);
      const r = await store.put(bytes);
      const rest = await s.allBytes(loc);
      expect(rest.length).toBeGreaterThan(bytes.length);
      expect(rest.includes(MARKER)).toBe(false);
      expect(rest.includes(bytes.subarray(0, 64))).toBe(false);
      // The storage address is a keyed hash: the content's SHA-256 is not stored (text or binary).
      expect(rest.includes(Buffer.from(r.sha256, 'hex'))).toBe(false);
      expect(rest.includes(Buffer.from(r.sha256))).toBe(false);
    } finally {
      await store.close();
    }
  });

  it('a second implementation (noble) opens the stored chunks with the documented associated data', async () => {
    const loc = s.fresh();
    const store = await s.open(loc, PASS, CHUNK);
    try {
      const bytes = marked(2 * CHUNK + 10);
      const r = await store.put(bytes);
      const raw = await s.raw(loc, store, r.sha256, CHUNK);
      const keys = await (store as SealedBlobStore).keys();
      const header = await raw.header();
      const out: Uint8Array[] = [];
      for (let i = 0; i < 3; i++) {
        const sealed = await raw.chunk(i);
        const aad = Buffer.concat([Buffer.from('hallmark/blob/v1\0'), Buffer.from(r.sha256, 'hex'), header, Buffer.from([0, 0, 0, i, i === 2 ? 1 : 0])]);
        out.push(xchacha20poly1305(keys.enc, sealed.subarray(0, 24), aad).decrypt(sealed.subarray(24, i === 2 ? 24 + 10 + 16 : undefined)));
      }
      expect(Buffer.concat(out).equals(bytes)).toBe(true);
    } finally {
      await store.close();
    }
  });

  describe('attacks on the stored chunks: a typed error, never wrong bytes', () => {
    async function setup() {
      const loc = s.fresh();
      const store = await s.open(loc, PASS, CHUNK);
      const bytes = marked(4 * CHUNK);
      const other = marked(4 * CHUNK);
      const r = await store.put(bytes);
      const o = await store.put(other);
      const raw = await s.raw(loc, store, r.sha256, CHUNK);
      const rawOther = await s.raw(loc, store, o.sha256, CHUNK);
      return { loc, store, r, raw, rawOther };
    }

    /** Every read path fails with `expected`, and toFile leaves nothing behind. */
    async function refused(store: BlobStore, digest: string, expected: string): Promise<void> {
      expect(await code(store.get(digest))).toBe(expected);
      expect(await code(drain(store, digest))).toBe(expected);
      const dir = mkdtempSync(join(tmpdir(), 'hm-blob-out-'));
      expect(await code(store.toFile(digest, join(dir, 'out.bin')))).toBe(expected);
      expect(existsSync(join(dir, 'out.bin'))).toBe(false);
    }

    it('a flipped byte in a chunk', async () => {
      const { store, r, raw } = await setup();
      const c = await raw.chunk(2);
      c[100] ^= 0x01;
      await raw.setChunk(2, c);
      await refused(store, r.sha256, 'BLOB_TAMPERED');
      await store.close();
    });

    it('two chunks swapped', async () => {
      const { store, r, raw } = await setup();
      const [c0, c1] = [await raw.chunk(0), await raw.chunk(1)];
      await raw.setChunk(0, c1);
      await raw.setChunk(1, c0);
      await refused(store, r.sha256, 'BLOB_TAMPERED');
      await store.close();
    });

    it('the last chunk cut off', async () => {
      const { store, r, raw } = await setup();
      await raw.dropLast();
      await refused(store, r.sha256, 'BLOB_TRUNCATED');
      await store.close();
    });

    it('a chunk taken from another blob, at the same index', async () => {
      const { store, r, raw, rawOther } = await setup();
      await raw.setChunk(1, await rawOther.chunk(1));
      await refused(store, r.sha256, 'BLOB_TAMPERED');
      await store.close();
    });

    it('a header edited to claim fewer chunks (a truncation that hides itself)', async () => {
      const { store, r, raw } = await setup();
      await raw.dropLast();
      const h = await raw.header();
      h.writeUInt32BE(3, 12);
      h.writeBigUInt64BE(BigInt(3 * CHUNK), 16);
      await raw.setHeader(h);
      await refused(store, r.sha256, 'BLOB_TAMPERED');
      await store.close();
    });

    it('a wrong passphrase, and a key file where a passphrase was used', async () => {
      const { loc, store, r } = await setup();
      await store.close();
      const wrong = await s.open(loc, { passphrase: 'not the passphrase' }, CHUNK);
      await refused(wrong, r.sha256, 'BLOB_BAD_KEY');
      expect(await code(wrong.put(Buffer.from('x')))).toBe('BLOB_BAD_KEY');
      await wrong.close();
      const dir = mkdtempSync(join(tmpdir(), 'hm-blob-key-'));
      writeFileSync(join(dir, 'k'), randomBytes(32).toString('hex'));
      const file = await s.open(loc, { keyFile: join(dir, 'k') }, CHUNK);
      expect(await code(file.get(r.sha256))).toBe('BLOB_BAD_KEY');
      await file.close();
      const right = await s.open(loc, PASS, CHUNK);
      expect((await right.get(r.sha256)).length).toBe(4 * CHUNK);
      await right.close();
    });
  });

  it('a key file store: opened by the same file on another instance, refused by another file', async () => {
    const loc = s.fresh();
    const dir = mkdtempSync(join(tmpdir(), 'hm-blob-key-'));
    writeFileSync(join(dir, 'k1'), `${randomBytes(32).toString('hex')}\n`);
    writeFileSync(join(dir, 'k2'), randomBytes(32).toString('hex'));
    writeFileSync(join(dir, 'bad'), 'not hex');
    const a = await s.open(loc, { keyFile: join(dir, 'k1') });
    const r = await a.put(marked(3000));
    await a.close();
    const b = await s.open(loc, { keyFile: join(dir, 'k1') });
    expect((await b.get(r.sha256)).length).toBe(3000);
    await b.close();
    const c = await s.open(loc, { keyFile: join(dir, 'k2') });
    expect(await code(c.get(r.sha256))).toBe('BLOB_BAD_KEY');
    await c.close();
    const d = await s.open(loc, { keyFile: join(dir, 'bad') });
    expect(await code(d.get(r.sha256))).toBe('BLOB_BAD_KEY');
    await d.close();
  });

  it('concurrent writers of the same content store it once; every reader gets it whole', async () => {
    const loc = s.fresh();
    const stores = await Promise.all([0, 1, 2].map(() => s.open(loc, PASS)));
    try {
      const bytes = marked(2.5 * 1024 * 1024);
      const results = await Promise.all(stores.map((st) => st.put(bytes)));
      expect(results.filter((x) => x.created).length).toBeGreaterThanOrEqual(1);
      for (const st of stores) expect(Buffer.from(await st.get(sha(bytes))).equals(bytes)).toBe(true);
    } finally {
      await Promise.all(stores.map((st) => st.close()));
    }
  });
});
