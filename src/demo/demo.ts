// The end-to-end demo behind `hallmark demo`: the main job on the embedded defaults, in a
// temporary home. Each stage prints what it did; later stages (embed, verify, evidence) append here.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashLeaf, newVerifier, openCheckpoint, toBase64, toHex, verifyInclusion } from '../../ledger/index.js';
import { initHome, openHome } from '../home/index.js';

export interface DemoOptions {
  readonly home?: string;
  readonly log: (line: string) => void;
}

export interface DemoResult {
  readonly home: string;
  readonly size: number;
  readonly checkpoint: string;
  readonly provedIndex: number;
}

export async function runDemo(opts: DemoOptions): Promise<DemoResult> {
  const dir = opts.home ?? mkdtempSync(join(tmpdir(), 'hallmark-demo-'));
  const { log } = opts;
  log(`1. init: a fresh home in ${dir}`);
  const init = initHome(dir);
  log(`   log key   ${init.logVerifierKey}`);
  log(`   owner key ${init.ownerVerifierKey}`);

  const home = openHome(dir);
  try {
    const { ledger } = home;
    log('2. ledger: append entries');
    const entries = ledger.appendBatch([
      { type: 'dataset.registered', actor: 'demo', payload: { name: 'mnist', note: 'built-in dataset (placeholder record until the formats stage)' } },
      { type: 'model.registered', actor: 'demo', payload: { name: 'mnist-cnn', note: 'fixture model (placeholder record until the formats stage)' } },
      { type: 'note.added', actor: 'demo', payload: { text: 'hello from the Hallmark demo' } },
    ]);
    for (const e of entries) log(`   #${e.index} ${e.entry.type.padEnd(20)} leaf ${toHex(e.leafHash).slice(0, 16)}…`);

    log('3. checkpoint: sign the tree head (C2SP tlog-checkpoint, Ed25519)');
    const cp = ledger.checkpoint();
    for (const line of cp.note.trimEnd().split('\n')) log(`   | ${line}`);

    const index = entries[1]!.index;
    log(`4. prove: entry #${index} is in the tree the checkpoint signs`);
    const proof = ledger.inclusionProof(index, cp.size);
    log(`   ${proof.hashes.length} hashes: ${proof.hashes.map((h) => toBase64(h).slice(0, 10) + '…').join(' ')}`);

    // Verify as an outsider would: only the entry bytes, the proof, the note and the public key.
    const opened = openCheckpoint(cp.note, newVerifier(ledger.verifierKey), ledger.origin);
    const got = ledger.get(index);
    verifyInclusion(index, opened.size, hashLeaf(got.bytes), proof.hashes, opened.root);
    log(`5. verify: signature ok, entry bytes hash to the leaf, proof leads to the signed root. Verified.`);
    return { home: dir, size: cp.size, checkpoint: cp.note, provedIndex: index };
  } finally {
    home.close();
  }
}
