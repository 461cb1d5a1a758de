// `hallmark model sign`: an OpenSSF model signature (Sigstore bundle v0.3 + DSSE + in-toto
// Statement v1, predicate https://model_signing/signature/v1.0) over a model file or folder, with
// an ECDSA key, or a key and its certificate chain.
import { sign as cryptoSign, createPublicKey, type KeyObject, type X509Certificate } from 'node:crypto';
import { basename, resolve } from 'node:path';
import { bundleToJson, type Bundle } from './bundle.js';
import { badKey } from './errors.js';
import { ignoredComponents, type IgnoreOptions } from './ignore.js';
import { hashForKey, publicKeyHint } from './keys.js';
import { IN_TOTO_JSON, pae } from './pae.js';
import { posixName } from './paths.js';
import { DEFAULT_SHARD_SIZE, serializeModel, type Resource, type Serialization } from './serialize.js';
import { statementBytes, subjectDigestOf } from './statement.js';

export interface SignOptions extends IgnoreOptions {
  readonly privateKey: KeyObject;
  /** Certificate signing: the signing certificate first, then the chain to embed. */
  readonly certificates?: readonly X509Certificate[];
  readonly method?: 'files' | 'shards';
  readonly shardSize?: number;
}

export interface SignResult {
  /** The bundle file's bytes. */
  readonly bundle: Uint8Array;
  readonly modelName: string;
  readonly subjectDigest: string;
  readonly resources: readonly Resource[];
  readonly serialization: Serialization;
  /** publicKey.hint of the signing key (also for certificate signatures). */
  readonly keyHint: string;
}

/** The model name the reference records: the last path component of the model path. */
export function modelNameOf(modelPath: string): string {
  return basename(resolve(modelPath));
}

function sameKey(a: KeyObject, b: KeyObject): boolean {
  return a.export({ type: 'spki', format: 'der' }).equals(b.export({ type: 'spki', format: 'der' }));
}

export async function signModel(modelPath: string, o: SignOptions): Promise<SignResult> {
  const hash = hashForKey(o.privateKey, 'the signing key');
  if (o.certificates?.length && !sameKey(o.certificates[0]!.publicKey, createPublicKey(o.privateKey))) {
    throw badKey('the signing certificate does not certify the signing key');
  }
  const method = o.method ?? 'files';
  const shardSize = o.shardSize ?? DEFAULT_SHARD_SIZE;
  if (method === 'shards' && (!Number.isSafeInteger(shardSize) || shardSize <= 0)) throw new RangeError(`--shard-size must be a positive integer, got ${shardSize}`);
  const ignorePaths = ignoredComponents(modelPath, o).map(posixName).sort();
  const serialization: Serialization = method === 'shards'
    ? { method, hashType: 'sha256', allowSymlinks: false, ignorePaths, shardSize }
    : { method, hashType: 'sha256', allowSymlinks: false, ignorePaths };
  const resources = await serializeModel(modelPath, serialization);
  const modelName = modelNameOf(modelPath);
  const payload = statementBytes(modelName, serialization, resources);
  const signature = new Uint8Array(cryptoSign(hash, pae(IN_TOTO_JSON, payload), { key: o.privateKey, dsaEncoding: 'der' }));
  const bundle: Bundle = {
    material: o.certificates?.length
      ? { kind: 'x509CertificateChain', certificates: o.certificates.map((c) => new Uint8Array(c.raw)) }
      : { kind: 'publicKey', hint: publicKeyHint(o.privateKey) },
    payloadType: IN_TOTO_JSON,
    payload,
    signature,
  };
  return {
    bundle: new TextEncoder().encode(bundleToJson(bundle)),
    modelName,
    subjectDigest: subjectDigestOf(resources),
    resources,
    serialization,
    keyHint: publicKeyHint(o.privateKey),
  };
}
