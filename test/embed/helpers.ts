// A real home, a real (small) TF.js model on disk and the owner's seed, for the embedding tests.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import * as ed from '@noble/ed25519';
import { computeKeyId, encodeVerifierKey, toBase64 } from '../../ledger/index.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSignerKey } from '../../src/evidence/owner-key.js';
import type { EmbedOptions } from '../../src/embed/index.js';
import { saveLayersModel } from '../../src/formats/index.js';
import { homePaths, initHome, openHome, type Home } from '../../src/home/index.js';
import { selectBackend } from '../../src/train/backend.js';
import { buildMnistCnn } from '../../src/train/mnist-cnn.js';

export interface TestHome {
  readonly dir: string;
  readonly home: Home;
  readonly seed: Uint8Array;
  readonly base: Pick<EmbedOptions, 'home' | 'ownerSeed'>;
}

/**
 * A fresh home. With `ownerSeed`, its owner key is made from that seed instead of a random one,
 * so that a test's watermark bits (derived from the owner's signature) are the same on every run:
 * for figures that depend on the key, such as how much a mark moves a real model's answers.
 */
export function makeHome(o: { ownerSeed?: Uint8Array } = {}): TestHome {
  const dir = mkdtempSync(join(tmpdir(), 'hallmark-embed-'));
  initHome(dir);
  if (o.ownerSeed) pinOwnerKey(dir, o.ownerSeed);
  const home = openHome(dir);
  const seed = parseSignerKey(home.readOwnerSignerKey()).seed;
  return { dir, home, seed, base: { home: { dir, ledger: home.ledger, ownerVerifierKey: home.ownerVerifierKey }, ownerSeed: seed } };
}

/** The fixture architecture with seeded, untrained weights, saved as a TF.js folder. */
export async function saveSmallModel(dir: string, seed = 1): Promise<string> {
  await selectBackend('wasm');
  const m = buildMnistCnn(seed);
  await saveLayersModel(m, dir);
  m.dispose();
  return dir;
}

/** Replaces a fresh (unencrypted) home's owner key, and the verifier key its config names, with the key of `seed`. */
function pinOwnerKey(dir: string, seed: Uint8Array): void {
  const paths = homePaths(dir);
  const config = JSON.parse(readFileSync(paths.config, 'utf8')) as { ownerVerifierKey: string };
  const name = config.ownerVerifierKey.split('+')[0]!;
  const pub = ed.getPublicKey(seed);
  const data = new Uint8Array(33);
  data[0] = 1; // Ed25519
  data.set(seed, 1);
  writeFileSync(paths.ownerKey, `PRIVATE+KEY+${name}+${computeKeyId(name, pub).toString(16).padStart(8, '0')}+${toBase64(data)}\n`, { mode: 0o600 });
  writeFileSync(paths.config, `${JSON.stringify({ ...config, ownerVerifierKey: encodeVerifierKey(name, pub) }, null, 2)}\n`, { mode: 0o600 });
}
