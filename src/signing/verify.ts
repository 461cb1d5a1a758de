// `hallmark model verify-signature`: checks an OpenSSF model signature the way model_signing's
// verifying.Config does: the signature over the DSSE PAE (with the v0.2 compat encoding as a
// fallback), the key hint or the certificate chain, the statement's subject digest, then every
// resource re-hashed with the bundle's own serialization settings; an extra, missing or changed
// file fails.
import { verify as cryptoVerify, type KeyObject, type X509Certificate } from 'node:crypto';
import { parseBundle, type Bundle } from './bundle.js';
import { verifyChain, readDerCertificate } from './chain.js';
import { badBundle, verifyFailed } from './errors.js';
import { ignoredComponents, type IgnoreOptions } from './ignore.js';
import { curveName, ecCurve, hashForKey, publicKeyHint } from './keys.js';
import { IN_TOTO_JSON, pae, paeCompat } from './pae.js';
import { pathComponents, posixName } from './paths.js';
import { serializeModel, type Resource } from './serialize.js';
import { parseStatement, type ModelManifest } from './statement.js';

export type Trust =
  | { readonly kind: 'publicKey'; readonly key: KeyObject }
  | { readonly kind: 'certificates'; readonly anchors: readonly X509Certificate[] };

export interface VerifyResult {
  readonly manifest: ModelManifest;
  readonly signer: { readonly kind: 'publicKey' | 'x509CertificateChain'; readonly hint: string; readonly curve: string; readonly subject?: string };
  /** True when the signature used the v0.2 compat PAE. */
  readonly compatPae: boolean;
}

function checkSignature(key: KeyObject, hash: string, compatHash: string, b: Bundle): boolean {
  const ok = (h: string, msg: Uint8Array) => {
    try {
      return cryptoVerify(h, msg, { key, dsaEncoding: 'der' }, b.signature);
    } catch {
      return false;
    }
  };
  if (ok(hash, pae(IN_TOTO_JSON, b.payload))) return false;
  if (ok(compatHash, paeCompat(IN_TOTO_JSON, b.payload))) return true;
  throw verifyFailed('the DSSE signature does not verify with the given key');
}

function signingKey(b: Bundle, trust: Trust): { key: KeyObject; signer: VerifyResult['signer']; compatHash: string } {
  if (trust.kind === 'publicKey') {
    if (b.material.kind !== 'publicKey') throw verifyFailed('the bundle was signed with a certificate; verify it with --certificate-chain');
    const hint = publicKeyHint(trust.key);
    if (b.material.hint !== undefined && b.material.hint !== hint) throw verifyFailed('the bundle names another key (publicKey.hint does not match the given public key)');
    return { key: trust.key, signer: { kind: 'publicKey', hint, curve: curveName(trust.key, 'the public key') }, compatHash: hashForKey(trust.key, 'the public key') };
  }
  if (b.material.kind !== 'x509CertificateChain') throw verifyFailed('the bundle was signed with a bare key; verify it with --public-key');
  const [leaf, ...rest] = b.material.certificates.map((c, i) => readDerCertificate(c, `certificates[${i}]`));
  verifyChain(leaf!, rest, trust.anchors);
  const key = leaf!.publicKey;
  ecCurve(key, 'the signing certificate\'s key');
  return { key, signer: { kind: 'x509CertificateChain', hint: publicKeyHint(key), curve: curveName(key, 'the signing certificate\'s key'), subject: leaf!.subject.replace(/\n/g, ', ') }, compatHash: 'sha256' };
}

/** The manifest key of a resource name, normalised as PurePosixPath does. */
function resourceKey(name: string, method: 'files' | 'shards'): string {
  if (method === 'files') return posixName(pathComponents(name));
  const parts = name.split(':');
  if (parts.length !== 3 || !/^\d+$/.test(parts[1]!) || !/^\d+$/.test(parts[2]!)) throw badBundle(`shard resource name ${JSON.stringify(name)} is not path:start:end`);
  return `${posixName(pathComponents(parts[0]!))}:${Number(parts[1])}:${Number(parts[2])}`;
}

function toMap(resources: readonly Resource[], method: 'files' | 'shards', what: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const r of resources) {
    const k = resourceKey(r.name, method);
    if (m.has(k)) throw badBundle(`${what} lists ${JSON.stringify(k)} twice`);
    m.set(k, `${r.algorithm}:${r.digest}`);
  }
  return m;
}

function compare(expected: Map<string, string>, actual: Map<string, string>): void {
  const extra = [...actual.keys()].filter((k) => !expected.has(k)).sort();
  const missing = [...expected.keys()].filter((k) => !actual.has(k)).sort();
  const changed = [...expected.keys()].filter((k) => actual.has(k) && actual.get(k) !== expected.get(k)).sort();
  const list = (a: string[]) => a.slice(0, 5).join(', ') + (a.length > 5 ? ` and ${a.length - 5} more` : '');
  const diffs = [
    ...(extra.length ? [`extra files not in the signature: ${list(extra)}`] : []),
    ...(missing.length ? [`missing files: ${list(missing)}`] : []),
    ...(changed.length ? [`changed: ${list(changed)}`] : []),
  ];
  if (diffs.length) throw verifyFailed(`the model does not match its signature: ${diffs.join('; ')}`);
}

export async function verifyModelSignature(modelPath: string, bundleBytes: Uint8Array, trust: Trust, o: IgnoreOptions = {}): Promise<VerifyResult> {
  const b = parseBundle(bundleBytes);
  if (b.payloadType !== IN_TOTO_JSON) throw badBundle(`DSSE payloadType is ${JSON.stringify(b.payloadType)}, want ${IN_TOTO_JSON}`);
  const { key, signer, compatHash } = signingKey(b, trust);
  const compatPae = checkSignature(key, hashForKey(key, 'the signing key'), compatHash, b);
  const manifest = parseStatement(b.payload);
  const method = manifest.serialization.method;
  const expected = toMap(manifest.resources, method, 'the signature');
  const actual = toMap(await serializeModel(modelPath, manifest.serialization, ignoredComponents(modelPath, o)), method, 'the model');
  compare(expected, actual);
  return { manifest, signer, compatPae };
}
