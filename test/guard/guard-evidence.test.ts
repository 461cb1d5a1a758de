// Evidence for guard marks (issue 12), the fast part (evidence-setup.ts: a real guard, home and
// ledger; the suspect is the owner's own model as ONNX, which gives the true labels). `evidence
// export` reveals only the claimed client's set; `evidence verify` re-checks it offline with its
// own leaf hashing, RFC 6962 audit paths and binomial tail, and --suspect re-queries the file.
// The attacks: a relabelled, removed or added mark, another client's set substituted, a set sealed
// after the verification, a guard.committed row injected unsigned into ledger.db, an untrusted
// guard key, a p-value edited in the record (in the proven bytes, and signed by an owner who lies),
// and a bundle for client A holding none of client B's inputs. The owned direction (a student
// trained on the answers) and the CLI: guard-evidence.slow.test.ts.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAnyEvidence, verifyEvidence, type GuardEvidenceResult } from '../../src/evidence/index.js';
import { readJournal } from '../../src/guard/index.js';
import { ownerRecordSigner } from '../../src/home/index.js';
import { buildGuardSection } from '../../src/evidence/guard-section.js';
import { proveConsistency, proveEntries } from '../../src/evidence/log-proofs.js';
import { guardClaimText } from '../../src/evidence/guard-report-pdf.js';
import { appendRecord, guardVerificationRecorded, readRecordAt } from '../../src/records/index.js';
import { REPO } from '../helpers/paths.js';
import { img, setUpGuardEvidence, type GuardEvidenceSetup } from './evidence-setup.js';
import { infer } from './helpers.js';

let s: GuardEvidenceSetup;
beforeAll(async () => {
  s = await setUpGuardEvidence({ student: false });
}, 120_000);
afterAll(async () => {
  await s?.g.close();
});

describe('guard-mark evidence', () => {
  it('export -> verify -> verify --suspect: the numbers recompute; the owner model is not a copy', async () => {
    const r = (await verifyAnyEvidence(s.out, { ...s.pinned(), suspect: s.suspect })) as GuardEvidenceResult;
    expect(r.kind).toBe('guard');
    const rec = r.verification.guard.clients.find((c) => c.client === s.thief.id)!;
    expect(rec.n).toBeGreaterThan(30);
    expect(r.verification.guard.tests).toBe(2);
    expect(r.clients.map((c) => c.client)).toEqual([s.thief.id]);
    expect(r.clients[0]!.requeried?.matches).toBe(rec.matches);
    expect(rec.matches).toBe(0);
    expect(r.verification.owned).toBe(false);
    expect(r.checks.join('\n')).toMatch(/each open against the committed root/);
    expect(r.checks.join('\n')).toMatch(/after-the-fact rule/);
    await expect(verifyEvidence(s.out, s.pinned())).rejects.toThrow(/guard-mark claim/);
    // Another file than the one examined is refused by digest, before any query.
    await s.rejects(s.out, /not the model the verification examined/, { suspect: join(REPO, 'fixtures/mnist-cnn') });
  });

  it('report.pdf states the guard claim: client, set size, agreement, chance rate, p-value', () => {
    const record = readRecordAt(s.g.home.ledger, s.vIndex, guardVerificationRecorded, s.g.trust).record;
    const c = record.guard.clients.find((x) => x.client === s.thief.id)!;
    const want = [s.thief.id, `${c.n} of this client's queries`, `on ${c.matches} of ${c.n}`, `agreement ${((c.matches / c.n) * 100).toFixed(1)}%`, '11.1% of the time', `p = ${c.pValue.toExponential(2)}`];
    const text = guardClaimText(record, s.thief.id);
    for (const w of want) expect(text).toContain(w);
    // The PDF itself, read back by poppler's pdftotext (a tool we did not write), where installed.
    if (existsSync('/usr/bin/pdftotext')) {
      const pdf = execFileSync('/usr/bin/pdftotext', [join(s.out, 'report.pdf'), '-'], { encoding: 'utf8' }).replace(/\s+/g, ' ');
      for (const w of want) expect(pdf).toContain(w);
      expect(pdf).not.toContain(s.other.id + "'s watermark set");
    }
  });

  it("a bundle for client A holds none of client B's inputs or salts, and no guard key", () => {
    const bytes = readFileSync(join(s.out, 'evidence.json'), 'utf8');
    const stmt = Buffer.from((JSON.parse(bytes) as { payload: string }).payload, 'base64').toString();
    const { marks } = readJournal(s.g.dir, s.g.guardKeys.journal);
    const b64 = (x: Float32Array) => Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString('base64');
    const theirs = marks.get(s.other.id)!;
    expect(theirs.length).toBeGreaterThan(5);
    expect(stmt).toContain(b64(marks.get(s.thief.id)![0]!.input)); // the thief's set is revealed
    for (const m of theirs) {
      expect(stmt).not.toContain(b64(m.input));
      expect(stmt).not.toContain(m.salt);
    }
    for (const k of [s.g.guardKeys.watermark, s.g.guardKeys.journal]) {
      for (const enc of [Buffer.from(k).toString('hex'), Buffer.from(k).toString('base64'), Buffer.from(k).toString('base64url')]) {
        expect(stmt).not.toContain(enc);
        expect(bytes).not.toContain(enc);
      }
    }
  });

  it("a relabelled, removed or added mark, or another client's set, is rejected", async () => {
    await s.rejects(s.resigned((p) => { const m = p.guard.clients[0].marks[3]; m.label = (m.label + 1) % 10; }), /mark 3 does not open against the committed root/);
    await s.rejects(s.resigned((p) => { p.guard.clients[0].marks[0].input = Buffer.alloc(784 * 4).toString('base64'); }), /mark 0 does not open/);
    await s.rejects(s.resigned((p) => { p.guard.clients[0].marks.pop(); }), /reveals \d+ marks, entry \d+ committed \d+/);
    await s.rejects(s.resigned((p) => { const ms = p.guard.clients[0].marks; ms.push({ ...ms[0], seq: ms.length }); }), /reveals \d+ marks, entry \d+ committed \d+/);
    await s.rejects(s.resigned((p) => { const ms = p.guard.clients[0].marks; ms.splice(1, 1); ms.push(ms[0]); }), /in order/);
    // Client B's own set, with the audit paths to B's committed root (what an export for B carries), in A's place or under B's name.
    const ledger = s.g.home.ledger;
    const record = readRecordAt(ledger, s.vIndex, guardVerificationRecorded, s.g.trust).record;
    const bMarks = readJournal(s.g.dir, s.g.guardKeys.journal).marks.get(s.other.id)!;
    const bSection = buildGuardSection({ ledger, record, verificationIndex: s.vIndex, cp: ledger.checkpoint(), trust: s.g.trust, marks: new Map([[s.other.id, bMarks]]) }).section.clients as any[];
    expect(bSection[0].client).toBe(s.other.id);
    await s.rejects(s.resigned((p) => { p.guard.clients[0].marks = bSection[0].marks; }), /reveals \d+ marks|does not open/);
    await s.rejects(s.resigned((p) => { p.guard.clients[0] = bSection[0]; }), /not among the proven entries|consistency|is not the set/);
  });

  it('the guard key must be one the owner vouches for; a p-value edited in the record is caught', async () => {
    await s.rejects(s.resigned((p) => { p.guard.serviceKeys = []; }), /guard.committed must be signed by the home's owner key or a service key/);
    // The proven verification bytes edited: the inclusion proof breaks.
    await s.rejects(s.resigned((p) => {
      const e = p.entries.find((x: any) => x.index === p.verification.index);
      const text = Buffer.from(e.bytes, 'base64').toString('latin1');
      e.bytes = Buffer.from(text.replace(/"pValue":[^,}]+/, '"pValue":1e-30'), 'latin1').toString('base64');
    }), /entr|proof|signature/i);
    // An owner who signs a false p-value: export refuses (its own verify recomputes it).
    const rec = s.unsigned(s.vIndex);
    rec.guard.clients[0].pValue = rec.guard.clients[0].pValue / 1000;
    rec.guard.familyPValue = rec.guard.familyPValue / 1000;
    const lying = appendRecord(s.g.home.ledger, guardVerificationRecorded, rec, ownerRecordSigner(s.g.home), 'liar').index;
    await expect(s.exportTo(join(s.root, 'lying'), lying, [rec.guard.clients[0].client])).rejects.toThrow(/differ from chance .*P\[Binomial/);
    // The same lie put into a bundle by hand (proofs to a fresh checkpoint, re-signed): verify recomputes the tail.
    const ledger = s.g.home.ledger;
    const cp = ledger.checkpoint();
    await s.rejects(s.resigned((p) => {
      const c = p.guard.clients[0];
      p.checkpoint = cp.note;
      p.verification.index = lying;
      p.entries = proveEntries(ledger, [lying, c.commitment.index, ...p.guard.appearances], cp.size);
      c.consistency = proveConsistency(ledger, ledger.checkpointCovering(c.commitment.index)!, cp);
    }), /recorded p-value .* differs from P\[Binomial/);
  });

  it('a set committed after the verification, or a guard.committed row injected unsigned, is refused', async () => {
    // The bundle claims the current checkpoint (after the verification) as the seal.
    await s.rejects(s.resigned((p) => {
      p.guard.clients[0].checkpoint = p.checkpoint;
      p.guard.clients[0].consistency = { from: 0, to: 0, hashes: [] };
    }), /consistency|not committed before/);
    // New marks committed, then verified before any checkpoint seals them: export refuses.
    await infer(s.g.app, s.thief.secret, img(400, 100), 100, s.g.runner.inputName);
    await s.g.service.flush();
    const late = await s.recordVerification(s.suspect, [s.thief.id]);
    await expect(s.exportTo(join(s.root, 'late'), late)).rejects.toMatchObject({ code: 'EVIDENCE_UNSEALED' });
    // Sealed now, and verified again: but the suspect was examined (entry vIndex) before this set's
    // commitment, so a set committed after the suspect was known is refused (the after-the-fact rule).
    s.g.home.ledger.checkpoint();
    const after = await s.recordVerification(s.suspect, [s.thief.id]);
    await expect(s.exportTo(join(s.root, 'after'), after)).rejects.toThrow(new RegExp(`the suspect appears at entry ${s.vIndex}, before guard commitment entry \\d+`));
    // An unsigned guard.committed written straight into ledger.db (the thief's root and count),
    // named by an owner-signed verification: the row is not trusted, nothing is exported.
    const first = (s.g.home.ledger.get(s.vIndex).entry.payload as any).guard.clients.find((c: any) => c.client === s.thief.id);
    const injected = s.g.home.ledger.append({ type: 'guard.committed', actor: 'key:intruder', payload: { schema: 'hallmark/guard.committed/v1', client: s.thief.id, count: first.commitment.count, root: first.commitment.root, added: 1, period: { from: '2026-01-01T00:00:00Z', to: '2026-01-02T00:00:00Z' } } }).index;
    s.g.home.ledger.checkpoint();
    const rec = s.unsigned(s.vIndex);
    rec.guard.clients = [{ ...first, commitment: { ...first.commitment, index: injected } }];
    rec.guard.tests = 1;
    rec.guard.familyPValue = first.pValue;
    const forged = appendRecord(s.g.home.ledger, guardVerificationRecorded, rec, ownerRecordSigner(s.g.home), 'test').index;
    await expect(s.exportTo(join(s.root, 'injected'), forged)).rejects.toThrow(/carries no signature/);
    // ... and a bundle pointing its commitment at the injected row (re-signed) is refused too.
    await s.rejects(s.resigned((p) => { p.guard.clients[0].commitment.index = injected; }), /bundle proves entry|not among/);
  });
});
