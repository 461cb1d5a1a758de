import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  computeKeyId, formatCheckpoint, generateNoteKey, newSigner, newVerifier, openCheckpoint, CheckpointOpener, openNote, parseCheckpoint, signCheckpoint, signNote, verifierKeyFor,
} from '../../ledger/index.js';
import { VECTORS } from '../helpers/paths.js';

const v = JSON.parse(readFileSync(join(VECTORS, 'signed-note.json'), 'utf8')) as {
  verifierKey: string; signerKey: string; name: string; keyIdHex: string; text: string; signedNote: string;
};

describe('signed notes: golang.org/x/mod/sumdb/note known answer', () => {
  it('reproduces the signed note byte for byte', () => {
    expect(signNote(v.text, newSigner(v.signerKey))).toBe(v.signedNote);
  });
  it('derives the same verifier key and key id', () => {
    expect(verifierKeyFor(v.signerKey)).toBe(v.verifierKey);
    const ver = newVerifier(v.verifierKey);
    expect(ver.keyId.toString(16).padStart(8, '0')).toBe(v.keyIdHex);
    expect(computeKeyId(v.name, ver.publicKey)).toBe(ver.keyId);
  });
  it('verifies the note signed by the Go implementation', () => {
    const n = openNote(v.signedNote, [newVerifier(v.verifierKey)]);
    expect(n.text).toBe(v.text);
    expect(n.verified).toHaveLength(1);
  });
  it('rejects any single-byte change of the signed note', () => {
    const bytes = Buffer.from(v.signedNote);
    let rejected = 0;
    for (let i = 0; i < bytes.length; i++) {
      const m = Buffer.from(bytes);
      m[i] = m[i]! ^ 0x01;
      try {
        openNote(m.toString('utf8'), [newVerifier(v.verifierKey)]);
      } catch {
        rejected++;
      }
    }
    expect(rejected).toBe(bytes.length);
  });
  it('ignores signatures from unknown keys but requires one known', () => {
    const other = generateNoteKey('other');
    const both = signNote(v.text, newSigner(v.signerKey), newSigner(other.signerKey));
    expect(openNote(both, [newVerifier(v.verifierKey)]).unverified).toHaveLength(1);
    expect(() => openNote(v.signedNote, [newVerifier(other.verifierKey)])).toThrow(/no signature from a known key/);
  });
  it('rejects malformed keys with a typed error', () => {
    for (const bad of ['', 'name', 'a+b+c', v.verifierKey.replace('c74f20a3', 'c74f20a4'), `${v.verifierKey}x`]) {
      expect(() => newVerifier(bad)).toThrow(expect.objectContaining({ code: 'LEDGER_BAD_KEY' }));
    }
    expect(() => newSigner(v.verifierKey)).toThrow(expect.objectContaining({ code: 'LEDGER_BAD_KEY' }));
  });
});

describe('C2SP checkpoints', () => {
  const key = generateNoteKey('example.com/log');
  const root = new Uint8Array(32).fill(7);
  it('formats origin, size, root and extensions', () => {
    const text = formatCheckpoint({ origin: 'example.com/log', size: 12, root, extensions: ['ext line'] });
    expect(text).toBe(`example.com/log\n12\n${Buffer.from(root).toString('base64')}\next line\n`);
    expect(parseCheckpoint(text)).toEqual({ origin: 'example.com/log', size: 12, root, extensions: ['ext line'] });
  });
  it('signs and opens, checking the origin', () => {
    const cp = signCheckpoint({ origin: 'example.com/log', size: 5, root, extensions: [] }, newSigner(key.signerKey));
    expect(openCheckpoint(cp.note, newVerifier(key.verifierKey), 'example.com/log').size).toBe(5);
    expect(() => openCheckpoint(cp.note, newVerifier(key.verifierKey), 'other.org/log')).toThrow(/origin/);
  });
  it('remembers only notes that verified: a changed note is verified afresh, a caller cannot poison the memory', () => {
    const opener = new CheckpointOpener(newVerifier(key.verifierKey), 'example.com/log', 2);
    const cp = signCheckpoint({ origin: 'example.com/log', size: 5, root, extensions: [] }, newSigner(key.signerKey));
    const first = opener.open(cp.note);
    first.root.fill(0);
    first.extensions.push('injected');
    expect(opener.open(cp.note)).toEqual({ ...cp, root, extensions: [] });
    // The same body under another key, and a one-character edit of the signed body: both refused.
    const intruder = signCheckpoint({ origin: 'example.com/log', size: 5, root, extensions: [] }, newSigner(generateNoteKey('example.com/log').signerKey));
    expect(() => opener.open(intruder.note)).toThrow(expect.objectContaining({ code: 'LEDGER_BAD_SIGNATURE' }));
    expect(() => opener.open(cp.note.replace('\n5\n', '\n6\n'))).toThrow(expect.objectContaining({ code: 'LEDGER_BAD_SIGNATURE' }));
    // Past its capacity it forgets the oldest and still verifies what comes back.
    for (let size = 6; size < 9; size++) opener.open(signCheckpoint({ origin: 'example.com/log', size, root, extensions: [] }, newSigner(key.signerKey)).note);
    expect(opener.open(cp.note).size).toBe(5);
  });
  it('rejects malformed bodies', () => {
    for (const t of ['o\n01\nAAAA\n', 'o\n-1\n' + Buffer.from(root).toString('base64') + '\n', 'o\n1\nnotbase64\n', 'o\n1\n']) {
      expect(() => parseCheckpoint(t)).toThrow(expect.objectContaining({ code: 'LEDGER_BAD_NOTE' }));
    }
  });
});
