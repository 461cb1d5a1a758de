// Every probe from transparency-dev/merkle testdata (../shared/vectors): happy paths verify,
// every mutation is rejected.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fromBase64, verifyConsistency, verifyInclusion } from '../../ledger/index.js';
import { VECTORS } from '../helpers/paths.js';

const root = join(VECTORS, 'transparency-dev-merkle');

function probes(kind: 'inclusion' | 'consistency'): { name: string; probe: Record<string, unknown> }[] {
  const out: { name: string; probe: Record<string, unknown> }[] = [];
  const walk = (dir: string) => {
    for (const f of readdirSync(dir).sort()) {
      const p = join(dir, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (f.endsWith('.json')) out.push({ name: p.slice(root.length + 1), probe: JSON.parse(readFileSync(p, 'utf8')) });
    }
  };
  walk(join(root, kind));
  return out;
}

// The vectors hold some deliberately malformed base64 / wrong-length values; decode leniently
// here so that the verifier, not the test, is what rejects them.
const b64 = (s: unknown): Uint8Array => (typeof s === 'string' ? fromBase64(s) ?? new Uint8Array(Buffer.from(s, 'base64')) : new Uint8Array(0));
const list = (a: unknown): Uint8Array[] => (Array.isArray(a) ? a.map(b64) : []);

describe('transparency-dev inclusion probes', () => {
  const all = probes('inclusion');
  it('found the probes', () => expect(all.length).toBeGreaterThan(50));
  it.each(all)('$name', ({ probe }) => {
    const run = () => verifyInclusion(probe.leafIdx as number, probe.treeSize as number, b64(probe.leafHash), list(probe.proof), b64(probe.root));
    if (probe.wantErr) expect(run).toThrow();
    else expect(run).not.toThrow();
  });
});

describe('transparency-dev consistency probes', () => {
  const all = probes('consistency');
  it('found the probes', () => expect(all.length).toBeGreaterThan(40));
  it.each(all)('$name', ({ probe }) => {
    const run = () => verifyConsistency(probe.size1 as number, probe.size2 as number, list(probe.proof), b64(probe.root1), b64(probe.root2));
    if (probe.wantErr) expect(run).toThrow();
    else expect(run).not.toThrow();
  });
});
