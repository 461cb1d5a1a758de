// Owner key strings from the ledger's own generator, and the core's derivation agreeing with them.
import { describe, expect, it } from 'vitest';
import { generateNoteKey, LedgerError, newSigner } from '../../ledger/index.js';
import { deriveOwnerPublicKey, deriveWatermarkRoot, verifyWatermarkRoot } from '../../src/core/derive.js';
import { ownerPublicKeyFromVerifierKey, ownerSeedFromSignerKey } from '../../src/secrets/owner-key.js';

describe('owner key strings', () => {
  it('the seed inside a signer key gives the public key of its verifier key', () => {
    for (let i = 0; i < 20; i++) {
      const { signerKey, verifierKey } = generateNoteKey(`hallmark.local/owner/t${i}`);
      const seed = ownerSeedFromSignerKey(signerKey);
      const pub = ownerPublicKeyFromVerifierKey(verifierKey);
      expect(deriveOwnerPublicKey(seed)).toEqual(pub);
      // and a root made from it verifies against the published verifier key
      const root = deriveWatermarkRoot(seed, 'm');
      expect(() => verifyWatermarkRoot({ ...root, ownerPublicKey: pub })).not.toThrow();
      // the same seed signs like the ledger's signer does
      expect(newSigner(signerKey).sign(Uint8Array.of(1, 2, 3))).toBeInstanceOf(Uint8Array);
    }
  });

  it('malformed keys are LEDGER_BAD_KEY', () => {
    const { signerKey } = generateNoteKey('hallmark.local/owner/x');
    for (const bad of ['', 'PRIVATE+KEY+x', signerKey.replace(/\+[0-9a-f]{8}\+/, '+00000000+'), signerKey.slice(0, -4)]) {
      expect(() => ownerSeedFromSignerKey(bad)).toThrow(LedgerError);
    }
    expect(() => ownerPublicKeyFromVerifierKey('nope')).toThrow(LedgerError);
  });
});
