// OpenSSF model signatures made by the reference tool (sigstore/model-transparency v0.3.1,
// v1.0.0, v1.1.0): every bundle verifies, and each kind of change makes it fail.
import { cpSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync, chmodSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadPublicKey, readPemCertificates, verifyModelSignature, type Trust } from '../../src/signing/index.js';
import { hallmark } from '../helpers/cli.js';
import { VECTORS } from '../helpers/paths.js';

const V = join(VECTORS, 'model-signing');
const pub = () => loadPublicKey(readFileSync(join(V, 'keys/signing-key-pub.pem'), 'utf8'));
const anchors = () => readPemCertificates([readFileSync(join(V, 'keys/ca-cert.pem'), 'utf8')], 'ca');

interface Case { dir: string; model: string; trust: 'key' | 'cert'; files: string[] }
const CASES: Case[] = [
  { dir: 'v0.3.1-elliptic-key', model: 'signme-1', trust: 'key', files: ['signme-1'] },
  { dir: 'v1.0.0-elliptic-key', model: 'signme-1', trust: 'key', files: ['signme-1'] },
  { dir: 'v1.1.0-elliptic-key', model: '', trust: 'key', files: ['signme-1', 'signme-2'] },
  { dir: 'v1.0.0-certificate', model: '', trust: 'cert', files: ['signme-1', 'signme-2'] },
  { dir: 'v1.1.0-certificate', model: '', trust: 'cert', files: ['signme-1', 'signme-2'] },
];

const tmp = mkdtempSync(join(tmpdir(), 'oms-vec-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;

/** A writable copy of a vector folder. */
function copy(c: Case): { dir: string; model: string; sig: string } {
  const dir = join(tmp, `${n++}`, c.dir);
  cpSync(join(V, c.dir), dir, { recursive: true });
  for (const f of readdirSync(dir)) chmodSync(join(dir, f), 0o644);
  return { dir, model: join(dir, c.model), sig: join(dir, 'model.sig') };
}

const trustFor = (c: Case): Trust => (c.trust === 'key' ? { kind: 'publicKey', key: pub() } : { kind: 'certificates', anchors: anchors() });
const verify = (c: Case, p: { model: string; sig: string }) => verifyModelSignature(p.model, readFileSync(p.sig), trustFor(c), { signaturePath: p.sig });

/** Re-encodes the bundle with a changed statement (the signature left as it was). */
function editStatement(sig: string, edit: (s: Record<string, any>) => void): void {
  const b = JSON.parse(readFileSync(sig, 'utf8'));
  const st = JSON.parse(Buffer.from(b.dsseEnvelope.payload, 'base64').toString('utf8'));
  edit(st);
  b.dsseEnvelope.payload = Buffer.from(JSON.stringify(st, null, 2)).toString('base64');
  writeFileSync(sig, JSON.stringify(b));
}

describe.each(CASES)('reference bundle $dir', (c) => {
  it('verifies', async () => {
    const p = copy(c);
    const r = await verify(c, p);
    expect(r.manifest.resources.length).toBe(c.files.length);
    expect(r.signer.curve).toBe('P-384');
  });

  it('fails when a model file changes by one byte', async () => {
    const p = copy(c);
    const f = join(p.dir, c.files[0]!);
    const b = readFileSync(f);
    b[0] ^= 1;
    writeFileSync(f, b);
    await expect(verify(c, p)).rejects.toMatchObject({ code: 'SIGNING_VERIFY_FAILED' });
  });

  it('fails when a file is added', async () => {
    const p = copy(c);
    if (c.model) {
      // A single-file model: the only way to add is to grow the file.
      writeFileSync(p.model, Buffer.concat([readFileSync(p.model), Buffer.from('x')]));
    } else {
      writeFileSync(join(p.dir, 'extra.bin'), 'extra');
    }
    await expect(verify(c, p)).rejects.toMatchObject({ code: 'SIGNING_VERIFY_FAILED', message: c.model ? expect.stringContaining('changed') : expect.stringContaining('extra files not in the signature: extra.bin') });
  });

  it('fails when a file is missing', async () => {
    if (c.model) return; // a single-file model has nothing else to lose; the file itself:
    const p = copy(c);
    unlinkSync(join(p.dir, c.files[1]!));
    await expect(verify(c, p)).rejects.toMatchObject({ code: 'SIGNING_VERIFY_FAILED', message: expect.stringContaining(`missing files: ${c.files[1]}`) });
  });

  it('fails when one signature byte changes', async () => {
    const p = copy(c);
    const b = JSON.parse(readFileSync(p.sig, 'utf8'));
    const sig = Buffer.from(b.dsseEnvelope.signatures[0].sig, 'base64');
    sig[sig.length - 5] ^= 0x01;
    b.dsseEnvelope.signatures[0].sig = sig.toString('base64');
    writeFileSync(p.sig, JSON.stringify(b));
    await expect(verify(c, p)).rejects.toMatchObject({ code: 'SIGNING_VERIFY_FAILED' });
  });

  it('fails when the statement changes (a digest, a name, the ignore list)', async () => {
    for (const edit of [
      (s: any) => { s.predicate.resources[0].digest = s.predicate.resources[0].digest.replace(/^./, (x: string) => (x === '0' ? '1' : '0')); },
      (s: any) => { s.subject[0].name = 'other'; },
      (s: any) => { s.predicate.serialization.ignore_paths = ['signme-2']; },
    ]) {
      const p = copy(c);
      editStatement(p.sig, edit);
      await expect(verify(c, p)).rejects.toMatchObject({ code: 'SIGNING_VERIFY_FAILED' });
    }
  });

  it('fails with another key or another root', async () => {
    const p = copy(c);
    if (c.trust === 'key') {
      const { generateKeyPairSync } = await import('node:crypto');
      const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'secp384r1' });
      await expect(verifyModelSignature(p.model, readFileSync(p.sig), { kind: 'publicKey', key: publicKey }, { signaturePath: p.sig })).rejects.toMatchObject({ code: 'SIGNING_VERIFY_FAILED' });
      await expect(verifyModelSignature(p.model, readFileSync(p.sig), { kind: 'certificates', anchors: anchors() }, { signaturePath: p.sig })).rejects.toMatchObject({ code: 'SIGNING_VERIFY_FAILED' });
    } else {
      // The leaf certificate as the only anchor is fine (partial chain); a bare key is not.
      const leafOnly = readPemCertificates([readFileSync(join(V, 'keys/signing-key-cert.pem'), 'utf8')], 'leaf');
      await expect(verifyModelSignature(p.model, readFileSync(p.sig), { kind: 'certificates', anchors: leafOnly }, { signaturePath: p.sig })).resolves.toBeDefined();
      await expect(verifyModelSignature(p.model, readFileSync(p.sig), { kind: 'publicKey', key: pub() }, { signaturePath: p.sig })).rejects.toMatchObject({ code: 'SIGNING_VERIFY_FAILED' });
    }
  });
});

describe('reference bundles through the CLI', () => {
  it('verifies v1.1.0 with a key and v1.0.0 with a chain; exit 1 after a change', () => {
    const key = CASES[2]!;
    const p = copy(key);
    const ok = hallmark(['model', 'verify-signature', p.model, '--signature', p.sig, '--public-key', join(V, 'keys/signing-key-pub.pem')]);
    expect(ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain('OK: v1.1.0-elliptic-key matches its signature (2 resources');
    const cert = CASES[3]!;
    const q = copy(cert);
    const ok2 = hallmark(['model', 'verify-signature', q.model, '--signature', q.sig, '--certificate-chain', join(V, 'keys/ca-cert.pem')]);
    expect(ok2.status).toBe(0);
    writeFileSync(join(q.dir, 'signme-2'), 'changed!');
    const bad = hallmark(['model', 'verify-signature', q.model, '--signature', q.sig, '--certificate-chain', join(V, 'keys/ca-cert.pem')]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/^hallmark: SIGNING_VERIFY_FAILED: .*changed: signme-2\n$/);
    expect(statSync(q.sig).size).toBeGreaterThan(0);
  });

  it('refuses a bundle that is not one, with a typed error', () => {
    const p = copy(CASES[2]!);
    writeFileSync(p.sig, '{"mediaType":"application/vnd.dev.sigstore.bundle.v0.2+json"}');
    const r = hallmark(['model', 'verify-signature', p.model, '--signature', p.sig, '--public-key', join(V, 'keys/signing-key-pub.pem')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^hallmark: SIGNING_BAD_BUNDLE: bundle mediaType/);
  });
});
