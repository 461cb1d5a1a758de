// A real home with a real ledger: a dataset, a base model, a watermark commitment for it (a real
// commitment over a real watermark root from src/core), the marked model derived from it, an
// unrelated model, and a verification.recorded entry. What is NOT real yet: the verification
// numbers are written by hand (the verification code is being built beside this one), chosen
// to be what a perfect white-box and black-box match of 256 bits / 100 triggers gives.
import { sha256 } from '@noble/hashes/sha2.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toHex, type JsonObject } from '../../ledger/index.js';
import { deriveWatermarkRoot } from '../../src/core/derive.js';
import { computeCommitment, parseSignerKey } from '../../src/evidence/index.js';
import { digestSecretMaterial, secretMaterialToJson } from '../../src/evidence/secret-material.js';
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
  opening: { scheme: 'both'; parameters: JsonObject; secretDigest: string; salt: string };
}

export function makeFixture(tag = 'a'): Fixture {
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
  const opening = { scheme: 'both' as const, parameters, secretDigest: digestSecretMaterial(secretMaterialToJson(root)), salt: hex(`salt-${tag}`).slice(0, 32) };
  const committed = l.append({ type: 'watermark.committed', actor: 'hallmark', payload: { schema: 'hallmark/watermark.committed/v1', model: base, scheme: 'both', parameters, commitment: computeCommitment(opening), ownerKey: home.ownerVerifierKey } });
  l.checkpoint();
  const marked = registerModel(l, {
    model: { name: 'mnist-cnn-marked', digest: { sha256: hex(`marked-${tag}`) } }, format: 'tfjs-layers',
    derivation: { operation: 'watermark-embed', baseModels: [base], datasets: [ds.record.id], parameters: { epochs: 2 }, invocationId: `inv-${tag}`, startedOn: new Date('2026-11-20T10:00:00Z') },
  }).record.id;
  l.checkpoint();
  const suspectDigest = hex(`stolen-${tag}`);
  const v = l.append({ type: 'verification.recorded', actor: 'hallmark', payload: {
    schema: 'hallmark/verification.recorded/v1', model: marked,
    suspect: { kind: 'file', descriptor: { name: 'stolen.onnx', digest: { sha256: suspectDigest }, mediaType: 'application/onnx' } },
    method: 'both', commitment: { index: committed.index, commitment: computeCommitment(opening) }, ownerKey: home.ownerVerifierKey,
    weight: { bits: 256, matches: 251, ber: 5 / 256, pValue: 1.3e-68, tensor: 'dense_1/kernel' },
    trigger: { n: 100, matches: 97, classes: 10, chanceRate: 0.12, nullSource: 'calibrated', nullDistribution: [0.08, 0.1, 0.11, 0.09, 0.12, 0.1, 0.07, 0.13, 0.1, 0.09, 0.11, 0.12, 0.1, 0.08, 0.1, 0.09, 0.11, 0.1, 0.12, 0.1], pValue: 2.1e-80 },
    alpha: 1e-6, owned: true, backend: 'onnxruntime-node',
  } });
  return { dir, home, base, marked, other, commitmentIndex: committed.index, verificationIndex: v.index, opening };
}
