// C2SP tlog-checkpoint (https://c2sp.org/tlog-checkpoint): the signed-note body is the origin
// line, the decimal tree size, the base64 root hash and optional extension lines.
import { LedgerError } from './errors.js';
import { fromBase64, HASH_SIZE, toBase64 } from './hash.js';
import { openNote, signNote, type NoteSigner, type NoteVerifier } from './note.js';

export interface Checkpoint {
  readonly origin: string;
  readonly size: number;
  readonly root: Uint8Array;
  readonly extensions: string[];
}

export interface SignedCheckpoint extends Checkpoint {
  /** The full signed note text, as stored and shipped. */
  readonly note: string;
}

const bad = (m: string) => new LedgerError('LEDGER_BAD_NOTE', m);

export function formatCheckpoint(c: Checkpoint): string {
  if (!c.origin || /[\n]/.test(c.origin)) throw new TypeError('checkpoint origin must be one non-empty line');
  if (!Number.isSafeInteger(c.size) || c.size < 0) throw new RangeError('checkpoint size must be a non-negative integer');
  const ext = c.extensions.map((l) => `${l}\n`).join('');
  return `${c.origin}\n${c.size}\n${toBase64(c.root)}\n${ext}`;
}

export function parseCheckpoint(text: string): Checkpoint {
  const lines = text.split('\n');
  if (lines.length < 4 || lines[lines.length - 1] !== '') throw bad('checkpoint must have origin, size and root lines');
  const [origin, sizeStr, rootStr] = lines as [string, string, string];
  if (!origin) throw bad('checkpoint origin is empty');
  if (!/^(0|[1-9][0-9]{0,15})$/.test(sizeStr)) throw bad('checkpoint size is not a decimal number');
  const size = Number(sizeStr);
  if (!Number.isSafeInteger(size)) throw bad('checkpoint size is too large');
  const root = fromBase64(rootStr);
  if (!root || root.length !== HASH_SIZE) throw bad('checkpoint root is not a base64 SHA-256 hash');
  const extensions = lines.slice(3, -1);
  if (extensions.some((l) => l === '')) throw bad('checkpoint has an empty extension line');
  return { origin, size, root, extensions };
}

export function signCheckpoint(c: Checkpoint, signer: NoteSigner): SignedCheckpoint {
  const note = signNote(formatCheckpoint(c), signer);
  return { ...c, note };
}

/** Opens a signed checkpoint note, checks its signature and, when given, its origin. */
export function openCheckpoint(note: string, verifier: NoteVerifier, origin?: string): SignedCheckpoint {
  const n = openNote(note, [verifier]);
  const c = parseCheckpoint(n.text);
  if (origin !== undefined && c.origin !== origin) throw bad(`checkpoint origin is "${c.origin}", want "${origin}"`);
  return { ...c, note };
}

/**
 * openCheckpoint with a memory of the notes this verifier already accepted: every read of the API
 * serves the stored newest checkpoint, and re-verifying the same bytes' Ed25519 signature on each
 * request cost about 1.2 ms (most of a proof request). Only notes that verified are remembered, by
 * their exact text, so a changed row is verified afresh; each call gets its own copy of the root.
 */
export class CheckpointOpener {
  private readonly seen = new Map<string, SignedCheckpoint>();
  constructor(private readonly verifier: NoteVerifier, private readonly origin?: string, private readonly capacity = 64) {}

  open(note: string): SignedCheckpoint {
    let cp = this.seen.get(note);
    if (!cp) {
      cp = openCheckpoint(note, this.verifier, this.origin);
      if (this.seen.size >= this.capacity) this.seen.delete(this.seen.keys().next().value!);
      this.seen.set(note, cp);
    }
    return { ...cp, root: new Uint8Array(cp.root), extensions: [...cp.extensions] };
  }
}
