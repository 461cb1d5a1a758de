// src/records against a real SQLite ledger and keys made by the ledger's own generator: signed
// appends verify, every kind of bad entry is reported with its index and never stops the rest,
// and the signature is checked with node:crypto's Ed25519 directly (a second verifier).
import { createPublicKey, verify as cryptoVerify } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { canonicalJson, generateNoteKey, openLedger } from '../../ledger/index.js';
import {
  appendRecord, calibrationRecorded, isProtectedType, parseSignerKey, protectedTypes, readRecords, recordTypeOf, RECORD_TYPES,
  verificationRecorded, watermarkCommitted, type RecordSigner,
} from '../../src/records/index.js';

const hex = (c: string) => c.repeat(64);

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'hm-records-'));
  const log = generateNoteKey('hallmark.local/test-log');
  const ledger = openLedger(join(dir, 'l.db'), { signerKey: log.signerKey, create: true });
  const owner = parseSignerKey(generateNoteKey('hallmark.local/owner/t').signerKey);
  const other = parseSignerKey(generateNoteKey('hallmark.local/owner/x').signerKey);
  const service = parseSignerKey(generateNoteKey('hallmark.local/service/s').signerKey);
  return { ledger, owner, other, service };
}

const committed = (ownerKey: string, c = 'a') => ({ schema: 'hallmark/watermark.committed/v1', model: `model:sha256:${hex('1')}`, scheme: 'weight', parameters: { weight: { bits: 8 } }, commitment: hex(c), ownerKey });

describe('records: signed append and checked read', () => {
  it('signs type, actor and payload; the signature verifies with node:crypto over the documented bytes', () => {
    const { ledger, owner } = setup();
    const e = appendRecord(ledger, watermarkCommitted, committed(owner.verifierKey), owner, 'cli');
    const { signature, ...body } = e.entry.payload as Record<string, unknown> & { signature: { key: string; sig: string } };
    expect(signature.key).toBe(owner.verifierKey);
    const msg = Buffer.concat([Buffer.from('hallmark/record-signature/v1\n'), Buffer.from(canonicalJson({ type: 'watermark.committed', actor: 'cli', payload: body } as never))]);
    const spki = createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), owner.publicKey]), format: 'der', type: 'spki' });
    expect(cryptoVerify(null, msg, spki, Buffer.from(signature.sig, 'base64'))).toBe(true);
    const r = readRecords(ledger, watermarkCommitted, { trust: { owner: owner.verifierKey } });
    expect(r.problems).toEqual([]);
    expect(r.records[0]).toMatchObject({ index: 0, actor: 'cli', signer: { key: owner.verifierKey, as: 'owner' }, record: { commitment: hex('a') } });
  });

  it('reports junk, unsigned, foreign-key, re-typed and tampered entries by index, and still returns the good ones', () => {
    const { ledger, owner, other } = setup();
    const trust = { owner: owner.verifierKey };
    ledger.append({ type: 'watermark.committed', actor: 'x', payload: { junk: true } }); // 0: junk
    ledger.append({ type: 'watermark.committed', actor: 'x', payload: committed(owner.verifierKey) }); // 1: unsigned
    appendRecord(ledger, watermarkCommitted, committed(other.verifierKey), other, 'x'); // 2: another owner's key
    const good = appendRecord(ledger, watermarkCommitted, committed(owner.verifierKey, 'b'), owner, 'cli'); // 3
    const copy = JSON.parse(JSON.stringify(good.entry.payload)) as Record<string, unknown>;
    ledger.append({ type: 'watermark.committed', actor: 'someone-else', payload: copy }); // 4: actor changed
    ledger.append({ type: 'watermark.committed', actor: 'cli', payload: { ...copy, commitment: hex('c') } }); // 5: payload changed
    appendRecord(ledger, watermarkCommitted, { ...committed(owner.verifierKey, 'd'), ownerKey: other.verifierKey }, owner, 'cli'); // 6: signed by owner, names another owner
    ledger.append({ type: 'watermark.committed', actor: 'cli', payload: { ...copy, schema: 'hallmark/watermark.committed/v9' } }); // 7: future version
    const r = readRecords(ledger, watermarkCommitted, { trust });
    expect(r.records.map((x) => x.index)).toEqual([3]);
    expect(r.problems.map((p) => [p.index, p.code])).toEqual([
      [0, 'RECORD_INVALID'], [1, 'RECORD_UNSIGNED'], [2, 'RECORD_UNTRUSTED_SIGNER'], [4, 'RECORD_BAD_SIGNATURE'],
      [5, 'RECORD_BAD_SIGNATURE'], [6, 'RECORD_UNTRUSTED_SIGNER'], [7, 'RECORD_UNSUPPORTED_VERSION'],
    ]);
    for (const p of r.problems) expect(p.message).toMatch(new RegExp(`^entry ${p.index}: `));
  });

  it('service keys listed in the trust may sign service types, never owner types', () => {
    const { ledger, owner, service } = setup();
    const trust = { owner: owner.verifierKey, service: [service.verifierKey] };
    const signer: RecordSigner = { verifierKey: service.verifierKey, seed: service.seed };
    const cal = {
      schema: 'hallmark/calibration.recorded/v1', commitment: { index: 0, commitment: hex('a') },
      task: { dataset: 'mnist', architecture: 'mnist-cnn', epochs: 1, trainSamples: 100, batchSize: 64, learningRate: 0.001 },
      backend: 'wasm', models: 2, seeds: [1, 2], cleanAccuracy: [0.9, 0.8], trigger: { n: 10, classes: 10, agreement: [0.1, 0.2], max: 0.2, mean: 0.15 }, rule: 'chance = max(1/C, max agreement)',
    };
    appendRecord(ledger, calibrationRecorded, cal, signer, 'svc');
    appendRecord(ledger, watermarkCommitted, committed(owner.verifierKey), signer, 'svc');
    expect(readRecords(ledger, calibrationRecorded, { trust }).records).toHaveLength(1);
    expect(readRecords(ledger, calibrationRecorded, { trust: { owner: owner.verifierKey } }).problems[0]!.code).toBe('RECORD_UNTRUSTED_SIGNER');
    expect(readRecords(ledger, watermarkCommitted, { trust }).problems[0]!.code).toBe('RECORD_UNTRUSTED_SIGNER');
  });

  it('strict decoders refuse on write what readers would refuse', () => {
    const { ledger, owner } = setup();
    expect(() => appendRecord(ledger, watermarkCommitted, { ...committed(owner.verifierKey), extra: 1 }, owner, 'cli')).toThrow(expect.objectContaining({ code: 'RECORD_INVALID' }));
    expect(() => appendRecord(ledger, watermarkCommitted, committed(owner.verifierKey), undefined, 'cli')).toThrow(expect.objectContaining({ code: 'RECORD_UNSIGNED' }));
    const v = { schema: 'hallmark/verification.recorded/v1', model: `model:sha256:${hex('1')}`, suspect: { kind: 'file', descriptor: { name: 's', digest: { sha256: hex('2') } } }, method: 'white-box', commitment: { index: 0, commitment: hex('a') }, ownerKey: owner.verifierKey, weight: { bits: 8, matches: 9, ber: 0, pValue: 0.1 }, alpha: 0.01, owned: true };
    expect(() => appendRecord(ledger, verificationRecorded, v, owner, 'cli')).toThrow(/matches <= bits/);
    expect(ledger.size()).toBe(0);
  });

  it('the registry: every type has a schema of its name; protected types and namespaces', () => {
    for (const t of RECORD_TYPES) expect(t.schema).toBe(`hallmark/${t.type}/v1`);
    expect(protectedTypes()).toEqual(expect.arrayContaining(['watermark.committed', 'verification.recorded', 'calibration.recorded', 'evidence.exported', 'api.key-created', 'api.job-submitted']));
    for (const t of ['watermark.committed', 'verification.recorded', 'calibration.recorded', 'evidence.exported', 'api.key-revoked', 'api.anything-new', 'watermark.v2']) expect(isProtectedType(t)).toBe(true);
    for (const t of ['note.added', 'model.registered', 'lineage.derived']) expect(isProtectedType(t)).toBe(false);
    expect(recordTypeOf('verification.recorded')!.writer).toBe('service');
    expect(recordTypeOf('watermark.committed')!.writer).toBe('owner');
  });
});
