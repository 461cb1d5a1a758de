import { MerkleTree } from 'merkletreejs';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateNoteKey, hashLeaf, openLedger, proofFromJson, rootFromBorder, hashChildren, toHex } from '../../ledger/index.js';
import { buildRfc6962Tree, merkleProof, merkleRoot, RFC6962_OPTIONS } from '../../src/formats/merkle.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

// The Certificate Transparency reference tree (RFC 6962 test data, transparency-dev/merkle testonly).
const CT_LEAVES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'];
const CT_ROOTS = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];

describe('merkletreejs configured for RFC 6962', () => {
  it('reproduces the RFC 6962 reference roots for sizes 0..8', () => {
    const leaves = CT_LEAVES.map((h) => hashLeaf(new Uint8Array(Buffer.from(h, 'hex'))));
    for (let n = 0; n <= 8; n++) expect(hex(merkleRoot(leaves.slice(0, n)))).toBe(CT_ROOTS[n]);
  });

  it("equals the ledger's own tree roots and inclusion proofs for every size 1..70", () => {
    const { signerKey } = generateNoteKey('merkle-test');
    const ledger = openLedger(':memory:', { signerKey, create: true, clock: () => new Date('2026-11-22T00:00:00Z') });
    try {
      const stored = ledger.appendBatch(Array.from({ length: 70 }, (_, i) => ({ type: 'test.leaf', payload: { i } })));
      const leafHashes = stored.map((s) => s.leafHash);
      for (let n = 1; n <= 70; n++) {
        const tree = buildRfc6962Tree(leafHashes.slice(0, n));
        expect(hex(tree.getRoot()), `size ${n}`).toBe(hex(ledger.root(n)));
        for (let i = 0; i < n; i++) {
          const ours = proofFromJson(merkleProof(tree, i));
          const theirs = ledger.inclusionProof(i, n);
          expect(ours.hashes.map(hex), `proof ${i} of ${n}`).toEqual(theirs.hashes.map(hex));
        }
      }
    } finally {
      ledger.close();
    }
  });

  it('matches rootFromBorder over the perfect subtrees (the ledger computation without a store)', () => {
    const leaves = Array.from({ length: 13 }, (_, i) => hashLeaf(Uint8Array.of(i)));
    // 13 = 8 + 4 + 1: the perfect subtrees of the right border.
    const perfect = (from: number, to: number): Uint8Array => (to - from === 1 ? leaves[from]! : hashChildren(perfect(from, (from + to) / 2), perfect((from + to) / 2, to)));
    expect(hex(merkleRoot(leaves))).toBe(toHex(rootFromBorder([perfect(0, 8), perfect(8, 12), perfect(12, 13)])));
  });

  it('shows which merkletreejs options would break RFC 6962', () => {
    const leaves = Array.from({ length: 3 }, (_, i) => Buffer.from(hashLeaf(Uint8Array.of(i))));
    const sha = (b: Buffer) => createHash('sha256').update(b).digest();
    const rfc = hex(merkleRoot(leaves));
    // Default concatenation has no 0x01 node prefix: differs at every size >= 2.
    expect(hex(new MerkleTree(leaves.slice(0, 2), sha).getRoot())).not.toBe(hex(merkleRoot(leaves.slice(0, 2))));
    // duplicateOdd hashes the odd node with itself instead of carrying it up: differs at size 3.
    expect(hex(new MerkleTree(leaves, sha, { ...RFC6962_OPTIONS, duplicateOdd: true }).getRoot())).not.toBe(rfc);
    // sortPairs reorders children: differs whenever a right child sorts first.
    const sorted = [4, 5, 6, 7, 8].some((n) => {
      const ls = Array.from({ length: n }, (_, i) => Buffer.from(hashLeaf(Uint8Array.of(i))));
      return hex(new MerkleTree(ls, sha, { ...RFC6962_OPTIONS, sortPairs: true }).getRoot()) !== hex(merkleRoot(ls));
    });
    expect(sorted).toBe(true);
  });
});
