// The watermark sets as verification may use them: only the marks a guard.committed entry
// covers (so the set provably predates the examination), checked against the committed root.
// Only commitments signed by a key the home trusts (the guard's service key or the owner's) count.
import type { Ledger } from '../../ledger/index.js';
import type { TrustedKeys } from '../records/index.js';
import { readCommitments, setRoot } from './commitments.js';
import { GuardError } from './errors.js';
import { openGuardKeys } from './guard-key.js';
import { readJournal, type Mark } from './mark-journal.js';

export interface CommittedSet {
  readonly client: string;
  readonly marks: readonly Mark[];
  readonly commitment: { readonly index: number; readonly root: string; readonly count: number };
}

/** Sets of the named clients (or all with a commitment), decrypted from the home. */
export async function loadCommittedSets(home: { dir: string; ledger: Ledger; trust: TrustedKeys }, passphrase: string, clients: readonly string[] | 'all'): Promise<CommittedSet[]> {
  const { latest } = readCommitments(home.ledger, home.trust);
  const keys = await openGuardKeys(home.dir, passphrase);
  const { marks } = readJournal(home.dir, keys.journal);
  const wanted = clients === 'all' ? [...latest.keys()].sort() : [...clients];
  if (wanted.length === 0) throw new GuardError('GUARD_NOT_FOUND_SET', 'no trusted guard.committed entry in this ledger: the guard has committed no watermark set yet');
  return wanted.map((client) => {
    const c = latest.get(client);
    if (!c) throw new GuardError('GUARD_NOT_FOUND_SET', `no trusted guard.committed entry for client ${client.slice(0, 40)}; "hallmark keys list" shows client ids`);
    const list = marks.get(client) ?? [];
    if (list.length < c.count) throw new GuardError('GUARD_TAMPERED', `the journal holds ${list.length} marks for client ${client} but entry ${c.index} committed ${c.count}`);
    const set = list.slice(0, c.count);
    if (setRoot(set) !== c.root) throw new GuardError('GUARD_TAMPERED', `the stored watermark set of client ${client} does not hash to the root committed in entry ${c.index}`);
    return { client, marks: set, commitment: { index: c.index, root: c.root, count: c.count } };
  });
}

/** The marks as one NHWC image batch, with their labels (all marks must share dims). */
export function marksAsImages(marks: readonly Mark[]): { images: Float32Array; labels: Int32Array; answers: Int32Array; dims: [number, number, number]; classes: number } {
  if (marks.length === 0) throw new GuardError('GUARD_NOT_FOUND_SET', 'the watermark set is empty');
  const dims = marks[0]!.dims;
  if (dims.length !== 3 || marks.some((m) => m.dims.join() !== dims.join())) throw new GuardError('GUARD_BAD_INPUT', 'guard verification queries image classifiers: every mark must be an [h, w, c] image of one size');
  const size = dims[0]! * dims[1]! * dims[2]!;
  const images = new Float32Array(marks.length * size);
  marks.forEach((m, i) => images.set(m.input, i * size));
  return { images, labels: Int32Array.from(marks.map((m) => m.label)), answers: Int32Array.from(marks.map((m) => m.answer)), dims: [dims[0]!, dims[1]!, dims[2]!], classes: marks[0]!.classes };
}
