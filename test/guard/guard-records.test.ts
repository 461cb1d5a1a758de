// The guard's ledger entries are signed records (src/records/types/guard-committed.ts,
// extraction-suspected.ts, guard-calibrated.ts): written only by the guard's own code with its
// service key, read back only when a key the home trusts signed them. Attacks performed here:
// the generic append (HTTP with client, engineer and admin keys; the built CLI) asked to write
// guard.committed / extraction.suspected / guard.calibrated / access.recorded, and forged entries
// injected straight into the database (unsigned, and signed by an intruder's key) that claim a
// bigger watermark set: each is refused or reported untrusted and changes no verification.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateNoteKey, type JsonObject } from '../../ledger/index.js';
import { GUARD_SIGNER_NAME, loadCommittedSets, readCommitments, setRoot, verifyGuardMarks } from '../../src/guard/index.js';
import { readJournal } from '../../src/guard/mark-journal.js';
import { homeTrust, initHome, openHome } from '../../src/home/index.js';
import { appendRecord, guardCommitted, parseSignerKey, readRecords } from '../../src/records/index.js';
import { errorOf, makeTestApi, type TestApi } from '../api/helpers.js';
import { hallmark } from '../helpers/cli.js';
import { loadMnist } from '../../src/formats/mnist.js';
import { openLocalClassifier } from '../../src/verify/index.js';
import { fixtureOnnx, infer, openTestGuard, PASS, type TestGuard } from './helpers.js';

const GUARD_TYPES = ['guard.committed', 'extraction.suspected', 'guard.calibrated', 'access.recorded'];

describe('the generic append refuses the guard records', () => {
  let t: TestApi;
  beforeAll(() => {
    t = makeTestApi();
  });
  afterAll(() => t?.dispose());

  it('POST /v1/ledger/entries: 403 RECORD_PROTECTED for engineer and admin keys, 403 for a client key; nothing written', async () => {
    const size = t.home.ledger.size();
    for (const type of GUARD_TYPES) {
      const body = JSON.stringify({ type, payload: { schema: `hallmark/${type}/v1`, client: '0123456789ab', count: 9999, root: 'a'.repeat(64), added: 9999, period: { from: '2026-01-01T00:00:00Z', to: '2026-01-01T00:00:00Z' } } });
      for (const role of ['admin', 'engineer'] as const) {
        const res = await t.req('/v1/ledger/entries', { role, method: 'POST', headers: { 'content-type': 'application/json' }, body });
        expect(res.status, `${role} ${type}`).toBe(403);
        expect((await errorOf(res)).code).toBe('RECORD_PROTECTED');
      }
      const res = await t.req('/v1/ledger/entries', { role: 'client', method: 'POST', headers: { 'content-type': 'application/json' }, body });
      expect(res.status, `client ${type}`).toBe(403);
    }
    expect(t.home.ledger.size()).toBe(size);
  });

  it('hallmark ledger append: exit 2 RECORD_PROTECTED for each guard type; nothing written', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hm-guard-rec-cli-'));
    const home = join(dir, 'home');
    const env = { HALLMARK_PASSPHRASE: PASS };
    expect(hallmark(['init'], { home, env }).status).toBe(0);
    const payload = join(dir, 'p.json');
    writeFileSync(payload, JSON.stringify({ schema: 'hallmark/guard.committed/v1', client: '0123456789ab', count: 1, root: 'a'.repeat(64), added: 1, period: { from: '2026-01-01T00:00:00Z', to: '2026-01-01T00:00:00Z' } }));
    for (const type of GUARD_TYPES) {
      const r = hallmark(['ledger', 'append', '--type', type, '--payload', payload], { home, env });
      expect(r.status, type).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^hallmark: RECORD_PROTECTED: entry type "${type.replace('.', '\\.')}"`));
    }
    const h = openHome(home, { passphrase: PASS });
    try {
      expect(h.ledger.list({ type: 'guard.committed' })).toHaveLength(0);
    } finally {
      h.close();
    }
  }, 120_000);
});

describe('forged guard.committed entries in the database', () => {
  let g: TestGuard;
  let thief: { id: string; secret: string };
  beforeAll(async () => {
    g = await openTestGuard({ markRate: 0.1 });
    thief = g.client('thief');
    const t = (await loadMnist({ seed: 0 })).test;
    await infer(g.app, thief.secret, t.images.subarray(0, 200 * 784), 200, g.runner.inputName);
    await g.service.flush();
  }, 120_000);
  afterAll(async () => g?.close());

  it('the guard signs with its own service key, which it listed in config.json at its first start', () => {
    const config = JSON.parse(readFileSync(join(g.dir, 'config.json'), 'utf8')) as { serviceKeys: string[]; ownerVerifierKey: string };
    expect(config.serviceKeys).toEqual([g.guardKeys.signer.verifierKey]);
    expect(g.guardKeys.signer.verifierKey.startsWith(`${GUARD_SIGNER_NAME}+`)).toBe(true);
    expect(config.ownerVerifierKey).not.toBe(g.guardKeys.signer.verifierKey);
    const { records, problems } = readRecords(g.home.ledger, guardCommitted, { trust: g.trust });
    expect(problems).toEqual([]);
    expect(records).toHaveLength(1);
    expect(records[0]!.signer).toEqual({ key: g.guardKeys.signer.verifierKey, as: 'service' });
    // The same entry read by a home that does not list the guard's key is not trusted.
    const strict = readRecords(g.home.ledger, guardCommitted, { trust: { owner: g.trust.owner } });
    expect(strict.records).toHaveLength(0);
    expect(strict.problems[0]!.code).toBe('RECORD_UNTRUSTED_SIGNER');
  });

  it('an unsigned entry and one signed by an intruder claiming a larger set are reported and change neither the guard nor verify', async () => {
    const honest = readCommitments(g.home.ledger, g.trust).latest.get(thief.id)!;
    // What a suspect that answers the watermark labels on marks 0 and 1 only would get, before any forgery.
    const clf = await openLocalClassifier(await fixtureOnnx());
    const trusted = () => loadCommittedSets({ dir: g.dir, ledger: g.home.ledger, trust: g.trust }, PASS, [thief.id]);
    const before = await verifyGuardMarks({ sets: await trusted(), classifier: clf });
    const { marks } = readJournal(g.dir, g.guardKeys.journal);
    const all = marks.get(thief.id)!;
    expect(all.length).toBeGreaterThan(5);
    // The forger wants the set cut to its first 2 marks (which it hopes the suspect matches), or a
    // bigger count; neither may be believed.
    const forged = { schema: 'hallmark/guard.committed/v1', client: thief.id, count: 2, root: setRoot(all, 2), added: 2, period: { from: '2026-01-01T00:00:00Z', to: '2099-01-01T00:00:00Z' } };
    const unsigned = g.home.ledger.append({ type: 'guard.committed', actor: 'key:engineer', payload: forged as JsonObject }).index;
    const intruder = parseSignerKey(generateNoteKey('hallmark-guard').signerKey);
    const foreign = appendRecord(g.home.ledger, guardCommitted, forged as JsonObject, intruder, 'hallmark-guard').index;
    const r = readCommitments(g.home.ledger, g.trust);
    expect(r.latest.get(thief.id)).toEqual(honest);
    expect(r.problems.map((p) => [p.index, p.code])).toEqual([[unsigned, 'RECORD_UNSIGNED'], [foreign, 'RECORD_UNTRUSTED_SIGNER']]);
    const sets = await trusted();
    expect(sets[0]!.commitment.index).toBe(honest.index);
    expect(sets[0]!.marks).toHaveLength(honest.count);
    const after = await verifyGuardMarks({ sets, classifier: clf });
    await clf.close();
    expect(after).toEqual(before);
    expect(after.results[0]!.n).toBe(honest.count);
    // The guard, restarted over this ledger, still commits after the honest entry, never the forged one.
    const home2 = openHome(g.dir);
    try {
      expect(readCommitments(home2.ledger, homeTrust(home2)).latest.get(thief.id)!.index).toBe(honest.index);
    } finally {
      home2.close();
    }
  }, 120_000);

  it('a home whose config.json is edited to drop the guard key trusts none of its entries (no silent fallback)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hm-guard-rec-'));
    initHome(dir);
    const h = openHome(dir);
    try {
      const foreignGuard = parseSignerKey(generateNoteKey(GUARD_SIGNER_NAME).signerKey);
      appendRecord(h.ledger, guardCommitted, { schema: 'hallmark/guard.committed/v1', client: thief.id, count: 1, root: 'b'.repeat(64), added: 1, period: { from: '2026-01-01T00:00:00Z', to: '2026-01-01T00:00:01Z' } }, foreignGuard, 'hallmark-guard');
      const r = readCommitments(h.ledger, homeTrust(h));
      expect(r.latest.size).toBe(0);
      expect(r.problems[0]!.code).toBe('RECORD_UNTRUSTED_SIGNER');
    } finally {
      h.close();
    }
  });
});
