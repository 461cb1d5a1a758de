// Per-client commitments to the watermark sets (record-guard-committed.ts): which clients have
// marks not yet committed, the Merkle root over a client's set, and the one function that
// appends the records. The ledger is the truth about what was committed and the journal about
// what exists, so after a crash or restart the next flush commits whatever is missing: nothing
// is lost and nothing is committed twice.
import type { JsonObject, Ledger } from '../../ledger/index.js';
import { EMPTY_ROOT, hashChildren, hashLeaf, toHex } from '../../ledger/index.js';
import { scanEntries } from '../lineage/index.js';
import { markLeafBytes, type Mark } from './mark-journal.js';
import { decodeGuardCommitted, SCHEMA, TYPE, type GuardCommitted } from './record-guard-committed.js';

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

/** The latest commitment of each client, read from the ledger (malformed entries are skipped and reported). */
export function readCommitments(ledger: Ledger): { latest: Map<string, GuardCommitted & { index: number }>; problems: { index: number; message: string }[] } {
  const latest = new Map<string, GuardCommitted & { index: number }>();
  const problems: { index: number; message: string }[] = [];
  scanEntries(ledger, TYPE, (e) => {
    try {
      const c = decodeGuardCommitted(e.entry.payload);
      const prev = latest.get(c.client);
      if (!prev || c.count >= prev.count) latest.set(c.client, { ...c, index: e.index });
    } catch (err) {
      problems.push({ index: e.index, message: (err as Error).message });
    }
  });
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

/** THE writer of guard.committed: all pending commitments in one transaction. */
export function appendGuardCommitments(ledger: Ledger, payloads: readonly JsonObject[], actor = 'hallmark-guard'): number[] {
  for (const p of payloads) decodeGuardCommitted(p);
  return ledger.appendBatch(payloads.map((payload) => ({ type: TYPE, actor, payload }))).map((e) => e.index);
}
