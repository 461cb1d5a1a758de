// A real home, a real (small) TF.js model on disk and the owner's seed, for the embedding tests.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSignerKey } from '../../src/evidence/owner-key.js';
import type { EmbedOptions } from '../../src/embed/index.js';
import { saveLayersModel } from '../../src/formats/index.js';
import { initHome, openHome, type Home } from '../../src/home/index.js';
import { selectBackend } from '../../src/train/backend.js';
import { buildMnistCnn } from '../../src/train/mnist-cnn.js';

export interface TestHome {
  readonly dir: string;
  readonly home: Home;
  readonly seed: Uint8Array;
  readonly base: Pick<EmbedOptions, 'home' | 'ownerSeed'>;
}

export function makeHome(): TestHome {
  const dir = mkdtempSync(join(tmpdir(), 'hallmark-embed-'));
  initHome(dir);
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
