// DSSE against the spec's published PAE example and an independent Ed25519 (noble, pure JS)
// checking what our node:crypto signer produced, plus tamper tests.
import * as ed from '@noble/ed25519';
import { sha512 } from '@noble/hashes/sha2.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generateNoteKey } from '../../ledger/index.js';
import { dsseKeyId, pae, parseSignerKey, parseVerifierKey, readEnvelope, signEnvelope, verifyEnvelope } from '../../src/evidence/index.js';

ed.hashes.sha512 = sha512;

/** Naive PAE straight from the spec's words, on strings (ASCII inputs only). */
const naivePae = (type: string, body: string) => Buffer.from(`DSSEv1 ${Buffer.byteLength(type)} ${type} ${Buffer.byteLength(body)} ${body}`);

describe('DSSE', () => {
  it('PAE matches the example of the DSSE protocol spec', () => {
    expect(Buffer.from(pae('http://example.com/HelloWorld', Buffer.from('hello world'))).toString()).toBe('DSSEv1 29 http://example.com/HelloWorld 11 hello world');
  });

  it('PAE equals a naive encoding for any ASCII type and body, and counts bytes not characters', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary-ascii', maxLength: 80 }), fc.string({ unit: 'binary-ascii', maxLength: 300 }), (t, b) => {
      expect(Buffer.from(pae(t, Buffer.from(b))).equals(naivePae(t, b))).toBe(true);
    }));
    expect(Buffer.from(pae('t', Buffer.from('é'))).toString()).toBe('DSSEv1 1 t 2 é');
  });

  const key = generateNoteKey('hallmark.test/owner');
  const sk = parseSignerKey(key.signerKey);
  const vk = parseVerifierKey(key.verifierKey);

  it('parses note signer keys whose base64 contains "+", and matches the verifier key', () => {
    expect(sk.verifierKey).toBe(key.verifierKey);
    expect(Buffer.from(vk.publicKey).equals(Buffer.from(ed.getPublicKey(sk.seed)))).toBe(true);
    // Find a key whose base64 has a '+' to exercise the split rule.
    let k = key;
    for (let i = 0; i < 200 && !k.signerKey.split('+').slice(4).join('+').includes('+'); i++) k = generateNoteKey('hallmark.test/owner');
    expect(parseSignerKey(k.signerKey).verifierKey).toBe(k.verifierKey);
    expect(() => parseSignerKey('PRIVATE+KEY+x+00000000+AAAA')).toThrow(/Ed25519/);
    expect(() => parseSignerKey(key.verifierKey)).toThrow(/PRIVATE\+KEY/);
  });

  it('signatures verify with an independent Ed25519 over an independent PAE', () => {
    const body = Buffer.from('{"_type":"https://in-toto.io/Statement/v1"}');
    const env = signEnvelope('application/vnd.in-toto+json', body, [{ keyid: dsseKeyId(sk), seed: sk.seed }]);
    const sig = Buffer.from(env.signatures[0]!.sig, 'base64');
    expect(ed.verify(sig, naivePae(env.payloadType, body.toString()), vk.publicKey)).toBe(true);
    expect(Buffer.from(verifyEnvelope(readEnvelope(env), { keyid: dsseKeyId(vk), publicKey: vk.publicKey })).equals(body)).toBe(true);
  });

  it('rejects a changed payload, type, signature, key id or key', () => {
    const env = signEnvelope('application/vnd.in-toto+json', Buffer.from('hello'), [{ keyid: dsseKeyId(sk), seed: sk.seed }]);
    const k = { keyid: dsseKeyId(vk), publicKey: vk.publicKey };
    const sig0 = env.signatures[0]!;
    expect(() => verifyEnvelope({ ...env, payload: Buffer.from('hellp').toString('base64') }, k)).toThrow(/does not verify/);
    expect(() => verifyEnvelope({ ...env, payloadType: 'application/json' }, k)).toThrow(/does not verify/);
    const bad = Buffer.from(sig0.sig, 'base64');
    bad[5]! ^= 1;
    expect(() => verifyEnvelope({ ...env, signatures: [{ ...sig0, sig: bad.toString('base64') }] }, k)).toThrow(/does not verify/);
    expect(() => verifyEnvelope({ ...env, signatures: [{ ...sig0, keyid: 'other' }] }, k)).toThrow(/no signature by/);
    const other = parseSignerKey(generateNoteKey('hallmark.test/owner').signerKey);
    expect(() => verifyEnvelope(env, { keyid: k.keyid, publicKey: other.publicKey })).toThrow(/does not verify/);
    expect(() => readEnvelope({ ...env, extra: 1 })).toThrow(/exactly/);
    expect(() => verifyEnvelope({ ...env, payload: 'aGVsbG9=' }, k)).toThrow(/canonical base64/);
  });
});
