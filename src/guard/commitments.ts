// Per-client commitments to the watermark sets (src/records/types/guard-committed.ts): which
// clients have marks not yet committed, the Merkle root over a client's set, and the one function
// that appends the records, signed by the guard's service key (guard-signer.ts). The ledger is the
// truth about what was committed and the journal about what exists, so after a crash or restart
// the next flush commits whatever is missing: nothing is lost and nothing is committed twice.
// Only entries signed by a key the home trusts count: a forged or unsigned guard.committed is
// reported as a problem and changes neither what the guard commits next nor any verification.
import type { EntryInput, JsonObject, Ledger } from '../../ledger/index.js';
import { EMPTY_ROOT, hashChildren, hashLeaf, toHex } from '../../ledger/index.js';
import { readRecords, recordEntry, type RecordProblem, type RecordSigner, type TrustedKeys } from '../records/index.js';
import { markLeafBytes, type Mark } from './mark-journal.js';
import { guardCommitted, SCHEMA, type GuardCommitted } from './record-guard-committed.js';

export const GUARD_ACTOR = 'hallmark-guard';

/** RFC 6962 §2.1 Merkle Tree Hash over the leaf bytes. */
export function merkleRoot(leaves: readonly Uint8Array[]): Uint8Array {
  if (leaves.length === 0) return EMPTY_ROOT;
  const hashes = leaves.map((l) => hashLeaf(l));
  const mth = (from: number, to: number): Uint8Array => {
    if (to - from === 1) return hashes[from]!;
    let k = 1;
    while (k * 2 < to - from) k *= 2;
    return hashChildren(mth(from, from + k), mth(from + k, to));
  };
  return mth(0, hashes.length);
}

export function setRoot(marks: readonly Mark[], count = marks.length): string {
  return toHex(merkleRoot(marks.slice(0, count).map(markLeafBytes)));
}

export type TrustedCommitment = GuardCommitted & { readonly index: number; readonly signer: string };

/** The latest trusted commitment of each client; untrusted or malformed entries are problems. */
export function readCommitments(ledger: Ledger, trust: TrustedKeys): { latest: Map<string, TrustedCommitment>; problems: RecordProblem[] } {
  const latest = new Map<string, TrustedCommitment>();
  const { records, problems } = readRecords(ledger, guardCommitted, { trust });
  for (const r of records) {
    const prev = latest.get(r.record.client);
    if (!prev || r.record.count >= prev.count) latest.set(r.record.client, { ...r.record, index: r.index, signer: r.signer!.key });
  }
  return { latest, problems };
}

/** Commitment payloads for every client whose set grew past its last commitment. */
export function pendingCommitments(marks: ReadonlyMap<string, readonly Mark[]>, committed: ReadonlyMap<string, number>, now: Date): JsonObject[] {
  const out: JsonObject[] = [];
  for (const [client, list] of [...marks].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const done = committed.get(client) ?? 0;
    if (list.length <= done) continue;
    const fresh = list.slice(done);
    out.push({
      schema: SCHEMA, client, count: list.length, root: setRoot(list), added: fresh.length,
      period: { from: fresh[0]!.time, to: now.toISOString() },
    });
  }
  return out;
}

/** The signed entries for guard.committed payloads (checked by the strict decoder first). */
export function guardCommitmentEntries(payloads: readonly JsonObject[], signer: RecordSigner, actor = GUARD_ACTOR): EntryInput[] {
  return payloads.map((p) => recordEntry(guardCommitted, p, actor, signer));
}

/** THE writer of guard.committed: all pending commitments in one transaction. */
export function appendGuardCommitments(ledger: Ledger, payloads: readonly JsonObject[], signer: RecordSigner, actor = GUARD_ACTOR): number[] {
  return ledger.appendBatch(guardCommitmentEntries(payloads, signer, actor)).map((e) => e.index);
}
