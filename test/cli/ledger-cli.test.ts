import Database from 'better-sqlite3';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { fromBase64, hashLeaf, newVerifier, openCheckpoint, verifyConsistency, verifyInclusion, canonicalJsonBytes, type JsonValue } from '../../ledger/index.js';
import { hallmark, hallmarkJson } from '../helpers/cli.js';

// `hallmark init` seals the home's keys under this passphrase; every command run here opens them with it.
process.env.HALLMARK_PASSPHRASE ||= 'cli test passphrase';
// Opening a sealed home costs a scrypt per command: seconds each on a loaded machine.
vi.setConfig({ testTimeout: 300_000 });

const b64 = (s: string) => fromBase64(s)!;

describe('hallmark init and ledger commands', () => {
  const home = join(mkdtempSync(join(tmpdir(), 'hm-cli-')), 'home');

  it('init creates a home and refuses to overwrite it', () => {
    const r = hallmarkJson<{ logVerifierKey: string }>(['init', '--home', home]);
    expect(r.logVerifierKey).toMatch(/^hallmark\.local\/log\/[0-9a-f]{8}\+[0-9a-f]{8}\+/);
    const again = hallmark(['init', '--home', home]);
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(/^hallmark: HOME_EXISTS: .*already exists/);
    expect(again.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('appends, shows, proves and checks consistency with JSON a verifier can use offline', () => {
    const payloadFile = join(home, 'p.json');
    writeFileSync(payloadFile, JSON.stringify({ b: 2, a: 1 }));
    for (let i = 0; i < 5; i++) hallmarkJson(['ledger', 'append', '--type', 'note.added', '--payload', payloadFile], { home });
    const viaStdin = hallmarkJson<{ index: number }>(['ledger', 'append', '--type', 'note.added', '--payload', '-'], { home, input: '{"from":"stdin"}' });
    expect(viaStdin.index).toBe(5);
    const shown = hallmarkJson<{ entry: { payload: JsonValue; index: number } }>(['ledger', 'show', '2'], { home });
    expect(shown.entry.payload).toEqual({ a: 1, b: 2 });

    const vkey = hallmarkJson<{ verifierKey: string }>(['ledger', 'pubkey'], { home }).verifierKey;
    const cpOld = hallmarkJson<{ checkpoint: string }>(['ledger', 'checkpoint'], { home });
    const proof = hallmarkJson<{ index: number; treeSize: number; leafHash: string; hashes: string[]; checkpoint: string }>(['ledger', 'prove', '--index', '2'], { home });
    expect(Object.keys(proof).sort()).toEqual(['checkpoint', 'hashes', 'index', 'leafHash', 'treeSize']);
    const cp = openCheckpoint(proof.checkpoint, newVerifier(vkey));
    expect(b64(proof.leafHash)).toEqual(hashLeaf(canonicalJsonBytes(shown.entry as unknown as JsonValue)));
    verifyInclusion(proof.index, proof.treeSize, b64(proof.leafHash), proof.hashes.map(b64), cp.root);

    hallmarkJson(['ledger', 'append', '--type', 'note.added', '--payload', payloadFile], { home });
    const cons = hallmarkJson<{ from: number; to: number; hashes: string[]; checkpoint: string }>(['ledger', 'consistency', '--from', '6'], { home });
    expect(cons.to).toBe(7);
    const cpNew = openCheckpoint(cons.checkpoint, newVerifier(vkey));
    verifyConsistency(6, 7, cons.hashes.map(b64), openCheckpoint(cpOld.checkpoint, newVerifier(vkey)).root, cpNew.root);
    expect(hallmark(['ledger', 'verify'], { home }).stdout).toMatch(/^ok: 7 entries, 2 checkpoints verified/);
  });

  it('gives one readable line and a non-zero status for mistakes', () => {
    const cases: [string[], RegExp, number][] = [
      [['ledger', 'show', '99'], /LEDGER_OUT_OF_RANGE: entry 99 does not exist/, 2],
      [['ledger', 'show', 'abc'], /index must be a non-negative integer/, 2],
      [['ledger', 'prove', '--index', '1', '--size', '3'], /no signed checkpoint of size 3/, 2],
      [['ledger', 'append', '--type', 'Bad', '--payload', '-'], /LEDGER_BAD_ENTRY|not valid JSON/, 2],
      [['ledger', 'bogus'], /USAGE/, 2],
    ];
    for (const [args, re, status] of cases) {
      const r = hallmark(args, { home, input: '{}' });
      expect(r.status, args.join(' ')).toBe(status);
      expect(r.stderr).toMatch(re);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    const none = hallmark(['ledger', 'checkpoint'], { home: join(home, 'nope') });
    expect(none.stderr).toMatch(/HOME_NOT_FOUND: .*hallmark init/);
  });

  it('ledger verify exits non-zero and names the index when the database is tampered with', () => {
    const db = new Database(join(home, 'ledger.db'));
    const row = db.prepare('SELECT data FROM entries WHERE idx = 3').get() as { data: Buffer };
    db.prepare('UPDATE entries SET data = ? WHERE idx = 3').run(Buffer.from(row.data.toString().replace('"a":1', '"a":7')));
    db.close();
    const r = hallmark(['ledger', 'verify'], { home });
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/TAMPERED/);
    expect(r.stdout).toMatch(/entry 3: stored leaf hash does not match/);
  });
});

describe('hallmark demo', () => {
  it('runs the main job end to end', () => {
    const r = hallmark(['demo'], { timeout: 600_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Verified/);
    // Embed, verify the stolen ONNX copy (owned) and the original (not), export and check the evidence.
    expect(r.stdout).toMatch(/7\. verify[\s\S]*OWNED \(the mark is there\)[\s\S]*NOT SHOWN/);
    expect(r.stdout).toMatch(/8\. evidence[\s\S]*verified: ownership evidence[\s\S]*re-extraction/);
    const pdf = /the report:\s+(\S+report\.pdf)/.exec(r.stdout)?.[1];
    expect(pdf && readFileSync(pdf).subarray(0, 5).toString()).toBe('%PDF-');
  });
});
