// model.signed is an owner-signed protected record (src/records/types/model-signed.ts). The attacks,
// performed as an insider would: a key that may append (admin, engineer) writes a forged
// model.signed through the API and the CLI (RECORD_PROTECTED, nothing written), and someone with
// the ledger database writes forged entries into it directly (unsigned, signed by another key):
// `model verify-signature --log` reports them and never trusts them.
import { generateKeyPairSync, createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateNoteKey, openLedger, type JsonObject } from '../../ledger/index.js';
import { appendRecord, modelSigned, parseSignerKey, readModelSigned, readRecords, RecordError, recordEntry } from '../../src/records/index.js';
import { homeTrust, openHome } from '../../src/home/index.js';
import { errorOf, makeTestApi, type TestApi } from '../api/helpers.js';
import { hallmark } from '../helpers/cli.js';

process.env.HALLMARK_PASSPHRASE ||= 'test passphrase';

const tmp = mkdtempSync(join(tmpdir(), 'model-signed-'));
const home = join(tmp, 'home');
const run = (args: string[]) => hallmark([...args, '--home', home]);

function keyPair(name: string): { keyPath: string; pubPath: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const keyPath = join(tmp, `${name}.key.pem`);
  const pubPath = join(tmp, `${name}.pub.pem`);
  writeFileSync(keyPath, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  writeFileSync(pubPath, publicKey.export({ type: 'spki', format: 'pem' }));
  return { keyPath, pubPath };
}

function makeModel(name: string, content: string): string {
  const m = join(tmp, name);
  mkdirSync(m);
  writeFileSync(join(m, 'weights.bin'), content);
  return m;
}

/** The payload a forger would write for a bundle: exactly what `model sign` writes, minus the signature. */
function forgedPayload(sig: string, subject: string): JsonObject {
  return {
    schema: 'hallmark/model.signed/v1',
    bundle: { sha256: createHash('sha256').update(readFileSync(sig)).digest('hex'), mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json' },
    subject: { name: 'forged', digest: { sha256: subject } },
    predicateType: 'https://model_signing/signature/v1.0',
    serialization: { method: 'files', resources: 1 },
    key: { kind: 'publicKey', hint: 'ab'.repeat(32), curve: 'prime256v1' },
  };
}

let honest: { model: string; sig: string; pub: string; index: number; subject: string };

beforeAll(() => {
  expect(hallmark(['init', '--home', home]).status).toBe(0);
  const { keyPath, pubPath } = keyPair('owner-oms');
  const m = makeModel('honest', 'honest weights');
  const sig = join(tmp, 'honest.sig');
  const s = run(['model', 'sign', m, '--signature', sig, '--key', keyPath, '--json']);
  expect(s.status, s.stderr).toBe(0);
  const out = JSON.parse(s.stdout);
  honest = { model: m, sig, pub: pubPath, index: out.ledger.index, subject: out.subject.digest.sha256 };
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('model.signed: an owner-signed record', () => {
  it('model sign writes it through appendRecord, signed by the owner; readRecords with the home\'s trust accepts it', () => {
    const h = openHome(home);
    try {
      const e = h.ledger.get(honest.index).entry;
      expect(e.type).toBe('model.signed');
      expect(e.payload).toHaveProperty('signature');
      const { records, problems } = readRecords(h.ledger, modelSigned, { trust: homeTrust(h) });
      expect(problems).toEqual([]);
      expect(records.map((r) => [r.index, r.signer?.as, r.signer?.key])).toEqual([[honest.index, 'owner', h.ownerVerifierKey]]);
    } finally {
      h.close();
    }
    const v = run(['model', 'verify-signature', honest.model, '--signature', honest.sig, '--public-key', honest.pub, '--log']);
    expect(v.status, v.stderr).toBe(0);
    expect(v.stdout).toContain(`logged: ledger entry ${honest.index} signed by the owner`);
  });

  it('the strict decoder refuses unknown fields, a bad digest, a certificate hash on a key signature', () => {
    const good = forgedPayload(honest.sig, 'cd'.repeat(32));
    expect(readModelSigned(good).subject.digest.sha256).toBe('cd'.repeat(32));
    for (const bad of [
      { ...good, extra: 1 },
      { ...good, bundle: { sha256: 'XYZ', mediaType: 'x' } },
      { ...good, key: { ...(good.key as object), certificateSha256: 'ab'.repeat(32) } },
      { ...good, serialization: { method: 'dirs', resources: 1 } },
      { ...good, model: 'model:md5:00' },
    ]) expect(() => readModelSigned(bad)).toThrow(RecordError);
    expect(() => readModelSigned({ ...good, schema: 'hallmark/model.signed/v2' })).toThrow(expect.objectContaining({ code: 'RECORD_UNSUPPORTED_VERSION' }));
    // appendRecord refuses to write it unsigned.
    expect(() => recordEntry(modelSigned, good, 'x')).toThrow(expect.objectContaining({ code: 'RECORD_UNSIGNED' }));
  });
});

describe('attacks on model.signed', () => {
  it('the CLI\'s generic append refuses it (RECORD_PROTECTED) and writes nothing', () => {
    const payload = join(tmp, 'forged.json');
    writeFileSync(payload, JSON.stringify(forgedPayload(honest.sig, honest.subject)));
    const size = () => JSON.parse(run(['ledger', 'checkpoint', '--json']).stdout).size as number;
    const before = size();
    const r = run(['ledger', 'append', '--type', 'model.signed', '--payload', payload]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^hallmark: RECORD_PROTECTED: entry type "model\.signed" is written only by hallmark's own/);
    expect(size()).toBe(before);
  });

  describe('over HTTP', () => {
    let t: TestApi;
    beforeAll(() => {
      t = makeTestApi();
    });
    afterAll(() => t?.dispose());

    it('every role that may append gets 403 RECORD_PROTECTED, signed or not; nothing is written', async () => {
      const size = t.home.ledger.size();
      const intruder = parseSignerKey(generateNoteKey('hallmark.local/owner/intruder').signerKey);
      const unsigned = forgedPayload(honest.sig, honest.subject);
      const signed = recordEntry(modelSigned, unsigned, 'key:engineer', intruder).payload;
      for (const role of ['admin', 'engineer'] as const) {
        for (const payload of [unsigned, signed]) {
          const res = await t.req('/v1/ledger/entries', { role, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 'model.signed', payload }) });
          expect(res.status, role).toBe(403);
          expect((await errorOf(res)).code).toBe('RECORD_PROTECTED');
        }
      }
      expect(t.home.ledger.size()).toBe(size);
    });
  });

  it('forged entries written straight into the ledger database are reported, never trusted', () => {
    // The attacker signs their own model with their own key, never logged by the owner...
    const { keyPath, pubPath } = keyPair('attacker-oms');
    const m = makeModel('attacker', 'attacker weights');
    const sig = join(tmp, 'attacker.sig');
    const s = run(['model', 'sign', m, '--signature', sig, '--key', keyPath, '--no-log', '--json']);
    expect(s.status, s.stderr).toBe(0);
    const subject = JSON.parse(s.stdout).subject.digest.sha256 as string;
    // ...and, holding the database file but not the owner's key, writes model.signed entries for it:
    // one unsigned, one signed by a key of their own, and one that claims the honest bundle.
    const db = openLedger(join(home, 'ledger.db'));
    const intruder = parseSignerKey(generateNoteKey('hallmark.local/owner/intruder').signerKey);
    const unsigned = db.append({ type: 'model.signed', actor: 'key:engineer', payload: forgedPayload(sig, subject) }).index;
    const foreign = appendRecord(db, modelSigned, forgedPayload(sig, subject), intruder, 'key:engineer').index;
    const onHonest = db.append({ type: 'model.signed', actor: 'key:engineer', payload: forgedPayload(honest.sig, 'ee'.repeat(32)) }).index;
    db.close();
    expect(run(['ledger', 'checkpoint']).status).toBe(0);

    const v = run(['model', 'verify-signature', m, '--signature', sig, '--public-key', pubPath, '--log']);
    expect(v.status).toBe(1);
    expect(v.stderr).toMatch(/^hallmark: SIGNING_VERIFY_FAILED: no model\.signed entry signed by this home's owner names this bundle/);
    expect(v.stderr).toContain(`entry ${unsigned}: model.signed carries no signature`);
    expect(v.stderr).toContain(`entry ${foreign}: model.signed must be signed by the home's owner key`);
    // Without --log the signature itself is fine: the log is what the forger could not get.
    expect(run(['model', 'verify-signature', m, '--signature', sig, '--public-key', pubPath]).status).toBe(0);

    // The honest bundle still verifies against its owner-signed entry; the forged claim is named.
    const ok = run(['model', 'verify-signature', honest.model, '--signature', honest.sig, '--public-key', honest.pub, '--log', '--json']);
    expect(ok.status, ok.stderr).toBe(0);
    const out = JSON.parse(ok.stdout);
    expect(out.ledger.index).toBe(honest.index);
    expect(out.ledger.untrusted).toEqual([expect.objectContaining({ index: onHonest, code: 'RECORD_UNSIGNED' })]);
    const text = run(['model', 'verify-signature', honest.model, '--signature', honest.sig, '--public-key', honest.pub, '--log']);
    expect(text.stdout).toContain(`warning: entry ${onHonest} also claims this bundle but is not trusted (RECORD_UNSIGNED`);
  });
});
