// A real home with a real ledger: a dataset, a base model, a watermark commitment for it (src/core
// commitWatermark over a real watermark root and 32 random bytes of salt, the opening encrypted
// into the home's secret store as embed does), the marked model derived from it, an unrelated
// model, and a verification.recorded entry. What is NOT real yet: the verification
// numbers are written by hand (the verification code is being built beside this one), chosen
// to be what a perfect white-box and black-box match of 256 bits / 100 triggers gives.
import { sha256 } from '@noble/hashes/sha2.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toHex, type JsonObject } from '../../ledger/index.js';
import { randomBytes } from 'node:crypto';
import { canonicalJsonBytes } from '../../ledger/index.js';
import { commitWatermark, deriveWatermarkRoot, encodeOpening } from '../../src/core/index.js';
import { parseSignerKey } from '../../src/evidence/index.js';
import { appendRecord, verificationRecorded, watermarkCommitted } from '../../src/records/index.js';
import { saveSecret } from '../../src/secrets/index.js';
import { initHome, openHome, type Home } from '../../src/home/index.js';
import { registerDataset, registerModel } from '../../src/lineage/index.js';

const hex = (s: string) => toHex(sha256(new TextEncoder().encode(s)));

export interface Fixture {
  dir: string;
  home: Home;
  base: string;
  marked: string;
  other: string;
  commitmentIndex: number;
  verificationIndex: number;
  /** The opening document (core encodeOpening form). */
  opening: JsonObject;
  passphrase: string;
}

export async function makeFixture(tag = 'a', options: { sealed?: boolean } = {}): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'hallmark-ev-'));
  initHome(dir);
  const home = openHome(dir);
  const l = home.ledger;
  const ds = registerDataset(l, { dataset: { name: 'mnist', digest: { sha256: hex(`mnist-${tag}`) } }, items: 60000 });
  const base = registerModel(l, { model: { name: 'mnist-cnn', digest: { sha256: hex(`base-${tag}`) }, mediaType: 'application/vnd.tfjs' }, format: 'tfjs-layers' }).record.id;
  const other = registerModel(l, { model: { name: 'unrelated', digest: { sha256: hex(`other-${tag}`) } }, format: 'onnx' }).record.id;
  const owner = parseSignerKey(home.readOwnerSignerKey());
  const root = deriveWatermarkRoot(owner.seed, base);
  const parameters = { weight: { bits: 256, layer: 'dense_1', lambda: 0.01 }, trigger: { n: 100, classes: 10, kind: 'noise' } };
  const opening = { scheme: 'both', parameters, root, salt: new Uint8Array(randomBytes(32)) };
  const commitment = commitWatermark(opening).digest;
  const passphrase = `test passphrase ${tag}`;
  await saveSecret(dir, `watermark-${commitment}`, canonicalJsonBytes(encodeOpening(opening)), passphrase, { kdf: { N: 2 ** 10, r: 8, p: 1 } });
  const committed = appendRecord(l, watermarkCommitted, { schema: 'hallmark/watermark.committed/v1', model: base, scheme: 'both', parameters, commitment, ownerKey: home.ownerVerifierKey }, owner, 'hallmark');
  if (options.sealed !== false) l.checkpoint();
  const marked = registerModel(l, {
    model: { name: 'mnist-cnn-marked', digest: { sha256: hex(`marked-${tag}`) } }, format: 'tfjs-layers',
    derivation: { operation: 'watermark-embed', baseModels: [base], datasets: [ds.record.id], parameters: { epochs: 2 }, invocationId: `inv-${tag}`, startedOn: new Date('2026-11-20T10:00:00Z') },
  }).record.id;
  if (options.sealed !== false) l.checkpoint();
  const suspectDigest = hex(`stolen-${tag}`);
  const v = appendRecord(l, verificationRecorded, {
    schema: 'hallmark/verification.recorded/v1', model: marked,
    suspect: { kind: 'file', descriptor: { name: 'stolen.onnx', digest: { sha256: suspectDigest }, mediaType: 'application/onnx' } },
    method: 'both', commitment: { index: committed.index, commitment }, ownerKey: home.ownerVerifierKey,
    weight: { bits: 256, matches: 251, ber: 5 / 256, pValue: 1.3e-68, tensor: 'dense_1/kernel' },
    trigger: { n: 100, matches: 97, classes: 10, chanceRate: 0.12, nullSource: 'calibrated', nullDistribution: [0.08, 0.1, 0.11, 0.09, 0.12, 0.1, 0.07, 0.13, 0.1, 0.09, 0.11, 0.12, 0.1, 0.08, 0.1, 0.09, 0.11, 0.1, 0.12, 0.1], pValue: 2.1e-80 },
    alpha: 1e-6, owned: true, backend: 'onnxruntime-node',
  }, owner, 'hallmark');
  return { dir, home, base, marked, other, commitmentIndex: committed.index, verificationIndex: v.index, opening: encodeOpening(opening), passphrase };
}
