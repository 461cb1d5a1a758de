// Bundles Hallmark writes, checked by a second implementation written here from the format
// (DSSE v1 PAE, model_signing's digest rules and path order), not by calling src/signing back.
import { execFileSync } from 'node:child_process';
import { createHash, createPublicKey, generateKeyPairSync, verify as cryptoVerify, X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openLedger } from '../../ledger/index.js';
import { loadPrivateKey, readPemCertificates, signModel, verifyModelSignature } from '../../src/signing/index.js';
import { hallmark } from '../helpers/cli.js';

// `hallmark init` seals the home's keys under a passphrase; every command here opens them with it.
process.env.HALLMARK_PASSPHRASE ||= 'test passphrase';

const tmp = mkdtempSync(join(tmpdir(), 'oms-sign-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const fresh = (name: string) => {
  const d = join(tmp, `${n++}`, name);
  mkdirSync(d, { recursive: true });
  return d;
};

// ---- the second implementation -------------------------------------------------------------

/** DSSE v1 PAE, from protocol.md: "DSSEv1" SP len(type) SP type SP len(body) SP body. */
function refPae(type: string, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`DSSEv1 ${Buffer.byteLength(type)} ${type} ${body.length} `, 'utf8'), body]);
}

/** Python compares str by code point: compare arrays of code points. */
function pyLess(a: string, b: string): number {
  const x = Array.from(a, (c) => c.codePointAt(0)!);
  const y = Array.from(b, (c) => c.codePointAt(0)!);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}

/** PurePosixPath order: tuples of parts. */
function pathLess(a: string, b: string): number {
  const x = a.split('/');
  const y = b.split('/');
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const c = pyLess(x[i]!, y[i]!);
    if (c) return c;
  }
  return x.length - y.length;
}

function walk(root: string, rel = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(root, rel))) {
    const r = rel ? `${rel}/${name}` : name;
    if (statSync(join(root, r)).isDirectory()) out.push(...walk(root, r));
    else out.push(r);
  }
  return out;
}

interface Expect { name: string; algorithm: string; digest: string }

function expectedResources(root: string, ignore: string[], shard?: number): Expect[] {
  const files = walk(root).filter((f) => !ignore.some((i) => f === i || f.startsWith(`${i}/`)));
  files.sort(pathLess);
  const out: Expect[] = [];
  for (const f of files) {
    const data = readFileSync(join(root, f));
    if (!shard) {
      out.push({ name: f, algorithm: 'sha256', digest: createHash('sha256').update(data).digest('hex') });
      continue;
    }
    for (let s = 0; s < data.length; s += shard) {
      const e = Math.min(s + shard, data.length);
      out.push({ name: `${f}:${s}:${e}`, algorithm: `sha256-sharded-${shard}`, digest: createHash('sha256').update(data.subarray(s, e)).digest('hex') });
    }
  }
  return out;
}

/** Checks a bundle file of ours from first principles; returns the statement. */
function independentCheck(bundlePath: string, pubPem: string, root: string, ignore: string[], shard?: number): any {
  const b = JSON.parse(readFileSync(bundlePath, 'utf8'));
  expect(b.mediaType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');
  expect(b.dsseEnvelope.payloadType).toBe('application/vnd.in-toto+json');
  expect(b.dsseEnvelope.signatures).toHaveLength(1);
  const body = Buffer.from(b.dsseEnvelope.payload, 'base64');
  const key = createPublicKey(pubPem);
  const hash = { prime256v1: 'sha256', secp384r1: 'sha384' }[key.asymmetricKeyDetails!.namedCurve as 'prime256v1'];
  const sig = Buffer.from(b.dsseEnvelope.signatures[0].sig, 'base64');
  expect(sig[0]).toBe(0x30); // DER
  expect(cryptoVerify(hash, refPae('application/vnd.in-toto+json', body), key, sig)).toBe(true);
  if (b.verificationMaterial.publicKey) {
    // The hint: hex SHA-256 of the SubjectPublicKeyInfo PEM text.
    expect(b.verificationMaterial.publicKey.hint).toBe(createHash('sha256').update(pubPem.replace(/\r/g, '')).digest('hex'));
  }
  expect(b.verificationMaterial.tlogEntries).toEqual([]);
  const st = JSON.parse(body.toString('utf8'));
  expect(st._type).toBe('https://in-toto.io/Statement/v1');
  expect(st.predicateType).toBe('https://model_signing/signature/v1.0');
  const want = expectedResources(root, ignore, shard);
  expect(st.predicate.resources).toEqual(want);
  const subject = createHash('sha256').update(Buffer.concat(want.map((r) => Buffer.from(r.digest, 'hex')))).digest('hex');
  expect(st.subject).toEqual([{ name: root.split('/').pop(), digest: { sha256: subject } }]);
  expect(st.predicate.serialization.method).toBe(shard ? 'shards' : 'files');
  expect(st.predicate.serialization.hash_type).toBe('sha256');
  expect(st.predicate.serialization.allow_symlinks).toBe(false);
  if (shard) expect(st.predicate.serialization.shard_size).toBe(shard);
  return st;
}

// ---- fixtures ----------------------------------------------------------------------------

function keyPair(curve: 'prime256v1' | 'secp384r1'): { keyPath: string; pubPath: string; pubPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
  const d = fresh('keys');
  const keyPath = join(d, 'key.pem');
  const pubPath = join(d, 'pub.pem');
  writeFileSync(keyPath, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  const pubPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  writeFileSync(pubPath, pubPem);
  return { keyPath, pubPath, pubPem };
}

/** A model whose names sort differently by code units, by whole strings and by components. */
function model(): string {
  const m = fresh('my-model');
  mkdirSync(join(m, 'a'));
  mkdirSync(join(m, 'sub/deeper'), { recursive: true });
  mkdirSync(join(m, '.git'));
  writeFileSync(join(m, 'a/b'), 'component a/b');
  writeFileSync(join(m, 'a-b'), 'a dash b');
  writeFileSync(join(m, 'a.b'), 'a dot b');
  writeFileSync(join(m, '\uff5e'), 'fullwidth tilde (BMP, above the surrogates)');
  writeFileSync(join(m, '\u{1f600}'), 'emoji (astral: a surrogate pair in UTF-16)');
  writeFileSync(join(m, 'sub/deeper/weights.bin'), Buffer.alloc(1000, 7));
  writeFileSync(join(m, 'empty'), '');
  writeFileSync(join(m, '.hidden'), 'dot files are part of the model');
  writeFileSync(join(m, '.git/HEAD'), 'ref: refs/heads/main');
  writeFileSync(join(m, '.gitignore'), '*.tmp');
  writeFileSync(join(m, 'skip.log'), 'left out with --ignore-paths');
  return m;
}

describe('signing: our bundles checked independently', () => {
  it('orders paths as PurePosixPath: a/b before a-b, U+FF5E before U+1F600', async () => {
    const m = model();
    const { keyPath, pubPem } = keyPair('prime256v1');
    const r = await signModel(m, { privateKey: loadPrivateKey(readFileSync(keyPath, 'utf8')), signaturePath: join(m, 'model.sig'), ignorePaths: [join(m, 'skip.log')] });
    const names = r.resources.map((x) => x.name);
    expect(names.indexOf('a/b')).toBeLessThan(names.indexOf('a-b'));
    expect(names.indexOf('\uff5e')).toBeLessThan(names.indexOf('\u{1f600}'));
    expect(names).not.toContain('skip.log');
    expect(names).not.toContain('.gitignore');
    expect(names).toContain('.hidden');
    writeFileSync(join(m, 'model.sig'), r.bundle);
    const st = independentCheck(join(m, 'model.sig'), pubPem, m, ['.git', '.gitignore', 'model.sig', 'skip.log']);
    expect(st.predicate.serialization.ignore_paths.sort()).toEqual(['.git', '.gitattributes', '.github', '.gitignore', 'model.sig', 'skip.log']);
  });

  it('signs shards with P-384 through the CLI; the bundle checks independently and the CLI verifies it', () => {
    const m = model();
    const { keyPath, pubPath, pubPem } = keyPair('secp384r1');
    const sig = join(m, 'model.sig');
    const s = hallmark(['model', 'sign', m, '--signature', sig, '--key', keyPath, '--shard-size', '300', '--ignore-paths', join(m, 'skip.log'), '--no-log']);
    expect(s.stderr).toBe('');
    expect(s.status).toBe(0);
    const st = independentCheck(sig, pubPem, m, ['.git', '.gitignore', 'model.sig', 'skip.log'], 300);
    expect(st.predicate.resources.filter((r: Expect) => r.name.startsWith('sub/deeper/weights.bin:')).map((r: Expect) => r.name)).toEqual(['sub/deeper/weights.bin:0:300', 'sub/deeper/weights.bin:300:600', 'sub/deeper/weights.bin:600:900', 'sub/deeper/weights.bin:900:1000']);
    expect(st.predicate.resources.some((r: Expect) => r.name.startsWith('empty:'))).toBe(false); // an empty file has no shard
    expect(Buffer.from(JSON.parse(readFileSync(sig, 'utf8')).dsseEnvelope.payload, 'base64').toString()).toContain('"shard_size": 300.0');
    const v = hallmark(['model', 'verify-signature', m, '--signature', sig, '--public-key', pubPath]);
    expect(v.status).toBe(0);
    writeFileSync(join(m, 'sub/deeper/weights.bin'), Buffer.alloc(1000, 8));
    expect(hallmark(['model', 'verify-signature', m, '--signature', sig, '--public-key', pubPath]).status).toBe(1);
  });

  it('signs one file: its one resource is named "."', async () => {
    const d = fresh('single');
    const f = join(d, 'weights.safetensors');
    writeFileSync(f, 'not really a model');
    const { keyPath, pubPem } = keyPair('prime256v1');
    const r = await signModel(f, { privateKey: loadPrivateKey(readFileSync(keyPath, 'utf8')), signaturePath: join(d, 'model.sig') });
    expect(r.resources).toEqual([{ name: '.', algorithm: 'sha256', digest: createHash('sha256').update('not really a model').digest('hex') }]);
    writeFileSync(join(d, 'model.sig'), r.bundle);
    const b = JSON.parse(readFileSync(join(d, 'model.sig'), 'utf8'));
    expect(cryptoVerify('sha256', refPae('application/vnd.in-toto+json', Buffer.from(b.dsseEnvelope.payload, 'base64')), createPublicKey(pubPem), Buffer.from(b.dsseEnvelope.signatures[0].sig, 'base64'))).toBe(true);
  });

  it('refuses symbolic links and non-EC keys with typed errors', async () => {
    const m = model();
    symlinkSync('/etc/passwd', join(m, 'link'));
    const { keyPath } = keyPair('prime256v1');
    await expect(signModel(m, { privateKey: loadPrivateKey(readFileSync(keyPath, 'utf8')) })).rejects.toMatchObject({ code: 'SIGNING_BAD_INPUT' });
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(() => loadPrivateKey(rsa)).toThrow(expect.objectContaining({ code: 'SIGNING_BAD_KEY' }));
    const ed = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(() => loadPrivateKey(ed)).toThrow(expect.objectContaining({ code: 'SIGNING_BAD_KEY' }));
  });

  it('signs with a certificate chain made by openssl; verifies against the root only', async () => {
    const d = fresh('pki');
    const sh = (args: string[]) => execFileSync('openssl', args, { cwd: d, stdio: 'pipe' });
    writeFileSync(join(d, 'ca.ext'), 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n');
    writeFileSync(join(d, 'leaf.ext'), 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n');
    sh(['ecparam', '-name', 'secp384r1', '-genkey', '-noout', '-out', 'root.key']);
    sh(['req', '-x509', '-new', '-key', 'root.key', '-subj', '/CN=test-root', '-days', '2', '-out', 'root.pem', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign']);
    sh(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'int.key']);
    sh(['req', '-new', '-key', 'int.key', '-subj', '/CN=test-int', '-out', 'int.csr']);
    sh(['x509', '-req', '-in', 'int.csr', '-CA', 'root.pem', '-CAkey', 'root.key', '-CAcreateserial', '-days', '2', '-extfile', 'ca.ext', '-out', 'int.pem']);
    sh(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'leaf.key']);
    sh(['req', '-new', '-key', 'leaf.key', '-subj', '/CN=model-signer', '-out', 'leaf.csr']);
    sh(['x509', '-req', '-in', 'leaf.csr', '-CA', 'int.pem', '-CAkey', 'int.key', '-CAcreateserial', '-days', '2', '-extfile', 'leaf.ext', '-out', 'leaf.pem']);
    const m = model();
    const sig = join(m, 'model.sig');
    const s = hallmark(['model', 'sign', m, '--signature', sig, '--key', join(d, 'leaf.key'), '--certificate', join(d, 'leaf.pem'), '--chain', join(d, 'int.pem'), '--no-log']);
    expect(s.stderr).toBe('');
    const b = JSON.parse(readFileSync(sig, 'utf8'));
    const certs = b.verificationMaterial.x509CertificateChain.certificates.map((c: { rawBytes: string }) => new X509Certificate(Buffer.from(c.rawBytes, 'base64')));
    expect(certs.map((c: X509Certificate) => c.subject)).toEqual(['CN=model-signer', 'CN=test-int']);
    const leafPub = certs[0].publicKey.export({ type: 'spki', format: 'pem' }).toString();
    independentCheck(sig, leafPub, m, ['.git', '.gitignore', 'model.sig']);
    expect(hallmark(['model', 'verify-signature', m, '--signature', sig, '--certificate-chain', join(d, 'root.pem')]).status).toBe(0);
    // A root that did not issue the chain.
    sh(['req', '-x509', '-new', '-key', 'int.key', '-subj', '/CN=test-root', '-days', '2', '-out', 'fake-root.pem']);
    const bad = hallmark(['model', 'verify-signature', m, '--signature', sig, '--certificate-chain', join(d, 'fake-root.pem')]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('does not chain to a trusted certificate');
    // A certificate for another key.
    const other = keyPair('prime256v1');
    await expect(signModel(m, { privateKey: loadPrivateKey(readFileSync(other.keyPath, 'utf8')), certificates: readPemCertificates([readFileSync(join(d, 'leaf.pem'), 'utf8')], 'leaf') })).rejects.toMatchObject({ code: 'SIGNING_BAD_KEY' });
    // Our verifier agrees with the independent check on the same bundle.
    await expect(verifyModelSignature(m, readFileSync(sig), { kind: 'certificates', anchors: readPemCertificates([readFileSync(join(d, 'root.pem'), 'utf8')], 'root') }, { signaturePath: sig })).resolves.toBeDefined();
  });
});

describe('signing: the ledger', () => {
  it('logs each signature as model.signed and verify-signature --log checks the inclusion proof', () => {
    const home = fresh('home');
    rmSync(home, { recursive: true });
    expect(hallmark(['init', '--home', home]).status).toBe(0);
    const m = model();
    const sig = join(m, 'model.sig');
    const { keyPath, pubPath } = keyPair('prime256v1');
    const s = hallmark(['model', 'sign', m, '--signature', sig, '--key', keyPath, '--home', home, '--json']);
    expect(s.status).toBe(0);
    const out = JSON.parse(s.stdout);
    const ledger = openLedger(join(home, 'ledger.db'));
    const e = ledger.get(out.ledger.index);
    ledger.close();
    expect(e.entry.type).toBe('model.signed');
    expect(e.entry.payload).toMatchObject({
      schema: 'hallmark/model.signed/v1',
      bundle: { sha256: createHash('sha256').update(readFileSync(sig)).digest('hex') },
      subject: { name: 'my-model', digest: { sha256: out.subject.digest.sha256 } },
      key: { kind: 'publicKey', hint: out.keyHint, curve: 'prime256v1' },
    });
    const v = hallmark(['model', 'verify-signature', m, '--signature', sig, '--public-key', pubPath, '--log', '--home', home]);
    expect(v.stderr).toBe('');
    expect(v.stdout).toContain(`logged: ledger entry ${out.ledger.index} signed by the owner, included in checkpoint`);
    // A valid signature that was never logged: the signature verifies, --log does not.
    const sig2 = join(m, 'model2.sig');
    expect(hallmark(['model', 'sign', m, '--signature', sig2, '--key', keyPath, '--no-log', '--ignore-paths', sig]).status).toBe(0);
    expect(hallmark(['model', 'verify-signature', m, '--signature', sig2, '--public-key', pubPath, '--ignore-paths', sig]).status).toBe(0);
    const nl = hallmark(['model', 'verify-signature', m, '--signature', sig2, '--public-key', pubPath, '--ignore-paths', sig, '--log', '--home', home]);
    expect(nl.status).toBe(1);
    expect(nl.stderr).toContain('no model.signed entry for this bundle');
  });
});
