// `hallmark model sign` and `hallmark model verify-signature`: OpenSSF model signatures
// (sigstore/model-transparency's format), logged in the ledger as model.signed entries.
import type { Command } from 'commander';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homeTrust, openHome, ownerRecordSigner, resolveHomeDir } from '../../src/home/index.js';
import { appendRecord, modelSigned, MODEL_SIGNED_SCHEMA } from '../../src/records/index.js';
import {
  BUNDLE_MEDIA_TYPE, bundleDigest, checkSignatureLogged, loadPrivateKey, loadPublicKey, PREDICATE_TYPE,
  readPemCertificates, signModel, verifyModelSignature, type LogCheck, type Trust,
} from '../../src/signing/index.js';
import { digestModel } from '../../src/formats/index.js';
import { action, emit, parseCount } from '../output.js';

interface SignOpts {
  signature: string;
  key?: string;
  certificate?: string;
  chain: string[];
  ignorePaths?: string[];
  ignoreGitPaths: boolean;
  shardSize?: string;
  log: boolean;
  home?: string;
  json?: boolean;
}

interface VerifyOpts {
  signature: string;
  publicKey?: string;
  certificateChain: string[];
  ignorePaths?: string[];
  ignoreGitPaths: boolean;
  log?: boolean;
  home?: string;
  json?: boolean;
}

const collect = (v: string, prev: string[]) => [...prev, v];

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new RangeError(`cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** Hallmark's model id for the same bytes, when the model's format is one we read. */
async function modelIdOf(path: string): Promise<string | undefined> {
  try {
    return `model:sha256:${(await digestModel(path)).sha256}`;
  } catch {
    return undefined;
  }
}

function findOrCreate(program: Command, name: string, description: string): Command {
  return program.commands.find((c) => c.name() === name) ?? program.command(name).description(description);
}

export function registerModelSign(program: Command): void {
  const model = findOrCreate(program, 'model', 'models: register, inspect, convert, sign');

  model
    .command('sign <path>')
    .description('write an OpenSSF model signature (Sigstore bundle, as sigstore/model-transparency) and log it in the ledger')
    .option('--signature <file>', 'where to write the signature', 'model.sig')
    .option('--key <pem>', 'ECDSA private key (P-256, P-384 or P-521), PEM')
    .option('--certificate <pem>', 'signing certificate for --key: the bundle then carries the certificate chain')
    .option('--chain <pem>', 'certificates to embed after the signing certificate (repeatable)', collect, [])
    .option('--ignore-paths <paths...>', 'files or folders to leave out (relative to the current folder, as the reference CLI)')
    .option('--no-ignore-git-paths', 'include .git, .gitattributes, .github and .gitignore')
    .option('--shard-size <bytes>', 'hash files in shards of this size ("shards" serialization)')
    .option('--no-log', 'do not append a model.signed entry to the ledger')
    .option('--home <dir>', 'home folder (default: $HALLMARK_HOME, else ./.hallmark)')
    .option('--json', 'print JSON')
    .action(action(async (path: string, opts: SignOpts) => {
      if (!opts.key) throw new RangeError('--key <pem> is required: OpenSSF model signatures use ECDSA keys, and the owner\'s key is Ed25519 (make one with: openssl ecparam -name prime256v1 -genkey -noout | openssl pkcs8 -topk8 -nocrypt)');
      if (opts.chain.length && !opts.certificate) throw new RangeError('--chain needs --certificate');
      if (!existsSync(path)) throw new RangeError(`no model at ${path}`);
      const shardSize = parseCount('--shard-size', opts.shardSize);
      const privateKey = loadPrivateKey(readText(opts.key, 'key'));
      const certificates = opts.certificate
        ? [...readPemCertificates([readText(opts.certificate, 'certificate')], opts.certificate), ...(opts.chain.length ? readPemCertificates(opts.chain.map((c) => readText(c, 'chain')), '--chain') : [])]
        : undefined;
      // Open the home before signing so that a missing home fails before anything is written.
      const home = opts.log ? openHome(resolveHomeDir(opts.home)) : undefined;
      try {
        const r = await signModel(path, {
          privateKey,
          ...(certificates ? { certificates } : {}),
          ...(shardSize !== undefined ? { method: 'shards' as const, shardSize } : {}),
          ignorePaths: opts.ignorePaths ?? [],
          signaturePath: opts.signature,
          ignoreGitPaths: opts.ignoreGitPaths,
        });
        const tmp = `${opts.signature}.${process.pid}.tmp`;
        writeFileSync(tmp, r.bundle, { flag: 'wx' });
        renameSync(tmp, opts.signature);
        let logged: { index: number; checkpointSize: number } | undefined;
        if (home) {
          const modelId = await modelIdOf(path);
          // Owner-signed (src/records/types/model-signed.ts): an appender's key cannot vouch for a signature.
          const entry = appendRecord(home.ledger, modelSigned, {
            schema: MODEL_SIGNED_SCHEMA,
            bundle: { sha256: bundleDigest(r.bundle), mediaType: BUNDLE_MEDIA_TYPE },
            subject: { name: r.modelName, digest: { sha256: r.subjectDigest } },
            predicateType: PREDICATE_TYPE,
            serialization: { method: r.serialization.method, resources: r.resources.length },
            key: {
              kind: certificates ? 'x509CertificateChain' : 'publicKey',
              hint: r.keyHint,
              curve: privateKey.asymmetricKeyDetails?.namedCurve ?? 'unknown',
              ...(certificates ? { certificateSha256: createHash('sha256').update(certificates[0]!.raw).digest('hex') } : {}),
            },
            ...(modelId ? { model: modelId } : {}),
          }, ownerRecordSigner(home), 'cli');
          const cp = home.ledger.checkpoint();
          logged = { index: entry.index, checkpointSize: cp.size };
        }
        emit(opts, { signature: opts.signature, subject: { name: r.modelName, digest: { sha256: r.subjectDigest } }, resources: r.resources.length, serialization: r.serialization.method, keyHint: r.keyHint, ...(logged ? { ledger: logged } : {}) }, () =>
          [
            `signed ${r.modelName}: ${r.resources.length} ${r.serialization.method === 'shards' ? 'shards' : 'files'}, subject sha256:${r.subjectDigest}`,
            `signature written to ${opts.signature}`,
            logged ? `logged as ledger entry ${logged.index} (checkpoint of size ${logged.checkpointSize})` : 'not logged (--no-log)',
          ].join('\n'));
      } finally {
        home?.close();
      }
    }));

  model
    .command('verify-signature <path>')
    .description('verify an OpenSSF model signature (from the reference tool or from hallmark) against a model file or folder')
    .requiredOption('--signature <file>', 'the signature (Sigstore bundle) to verify')
    .option('--public-key <pem>', 'the signer\'s public key (PEM)')
    .option('--certificate-chain <pem>', 'trusted root or intermediate certificates (PEM, repeatable)', collect, [])
    .option('--ignore-paths <paths...>', 'files or folders to leave out (relative to the current folder)')
    .option('--no-ignore-git-paths', 'include .git, .gitattributes, .github and .gitignore')
    .option('--log', 'also require the signature\'s model.signed entry, its inclusion proof and a signed checkpoint in the ledger')
    .option('--home <dir>', 'home folder for --log (default: $HALLMARK_HOME, else ./.hallmark)')
    .option('--json', 'print JSON')
    .action(action(async (path: string, opts: VerifyOpts) => {
      if ((opts.publicKey === undefined) === (opts.certificateChain.length === 0)) throw new RangeError('give exactly one of --public-key and --certificate-chain');
      if (!existsSync(path)) throw new RangeError(`no model at ${path}`);
      const trust: Trust = opts.publicKey
        ? { kind: 'publicKey', key: loadPublicKey(readText(opts.publicKey, 'public key'), opts.publicKey) }
        : { kind: 'certificates', anchors: readPemCertificates(opts.certificateChain.map((c) => readText(c, 'certificate chain')), '--certificate-chain') };
      const bundle = new Uint8Array(readFileSync(opts.signature));
      const r = await verifyModelSignature(path, bundle, trust, { ignorePaths: opts.ignorePaths ?? [], signaturePath: opts.signature, ignoreGitPaths: opts.ignoreGitPaths });
      let log: LogCheck | undefined;
      if (opts.log) {
        const home = openHome(resolveHomeDir(opts.home));
        try {
          log = checkSignatureLogged(home.ledger, bundle, r.manifest.subjectDigest, homeTrust(home));
        } finally {
          home.close();
        }
      }
      emit(opts, { verified: true, subject: { name: r.manifest.modelName, digest: { sha256: r.manifest.subjectDigest } }, resources: r.manifest.resources.length, signer: r.signer, ...(log ? { ledger: log } : {}) }, () =>
        [
          `OK: ${r.manifest.modelName} matches its signature (${r.manifest.resources.length} resources, subject sha256:${r.manifest.subjectDigest})`,
          `signed by ${r.signer.kind === 'publicKey' ? 'key' : `certificate ${r.signer.subject}`} ${r.signer.curve}, hint ${r.signer.hint}${r.compatPae ? ' (model_signing v0.2 encoding)' : ''}`,
          ...(log ? [`logged: ledger entry ${log.index} signed by the owner, included in checkpoint ${log.checkpointSize} of ${log.origin}`] : []),
          ...(log?.untrusted ?? []).map((p) => `warning: entry ${p.index} also claims this bundle but is not trusted (${p.code}: ${p.message})`),
        ].join('\n'));
    }));
}
