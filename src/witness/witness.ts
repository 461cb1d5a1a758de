// The witness side of C2SP tlog-witness add-checkpoint. Checking the old size and persisting the
// new checkpoint happen in one synchronous step (no await between them), so two requests for one
// log cannot interleave and roll the state back.
import { createHash } from 'node:crypto';
import {
  EMPTY_ROOT, equalBytes, fromBase64, isHallmarkError, openNote, parseCheckpoint, toBase64, verifyConsistency, type NoteVerifier,
} from '../../ledger/index.js';
import type { Cosigner } from './cosignature.js';
import type { WitnessState } from './state.js';

export const MAX_REQUEST_BYTES = 64 * 1024;
const MAX_PROOF_LINES = 63;

export interface WitnessResponse {
  readonly status: 200 | 400 | 403 | 404 | 409 | 422;
  readonly body: string;
  readonly contentType: string;
}

export interface WitnessOptions {
  readonly cosigner: Cosigner;
  /** Trusted log keys by origin. */
  readonly logs: ReadonlyMap<string, readonly NoteVerifier[]>;
  readonly state: WitnessState;
  readonly clock?: () => Date;
  /** Called for requests that were validly signed but failed a consistency check: possible log misbehaviour. */
  readonly onRefused?: (origin: string, reason: string, request: string) => void;
}

const text = (status: WitnessResponse['status'], body: string): WitnessResponse => ({ status, body: body.endsWith('\n') ? body : `${body}\n`, contentType: 'text/plain; charset=utf-8' });

export function addCheckpoint(request: string, o: WitnessOptions): WitnessResponse {
  const blank = request.indexOf('\n\n');
  if (blank < 0) return text(400, 'want: old size line, proof lines, an empty line, then the checkpoint');
  const head = request.slice(0, blank).split('\n');
  const note = request.slice(blank + 2);
  const m = /^old (0|[1-9][0-9]{0,15})$/.exec(head[0]!);
  if (!m || !Number.isSafeInteger(Number(m[1]))) return text(400, 'the first line must be "old <size>"');
  const oldSize = Number(m[1]);
  const proofLines = head.slice(1);
  if (proofLines.length > MAX_PROOF_LINES) return text(400, `at most ${MAX_PROOF_LINES} consistency proof lines`);
  const proof: Uint8Array[] = [];
  for (const l of proofLines) {
    const h = fromBase64(l);
    if (!h || h.length !== 32) return text(400, 'a consistency proof line is not a base64 SHA-256 hash');
    proof.push(h);
  }
  const origin = note.slice(0, Math.max(0, note.indexOf('\n')));
  const verifiers = o.logs.get(origin);
  if (!verifiers) return text(404, 'unknown log origin');
  let cp;
  let body: string;
  try {
    const opened = openNote(note, [...verifiers]);
    body = opened.text;
    cp = parseCheckpoint(body);
  } catch (err) {
    if (isHallmarkError(err) && err.code === 'LEDGER_BAD_SIGNATURE') return text(403, 'no valid signature from a trusted key for this origin');
    return text(400, `malformed checkpoint: ${(err as Error).message}`);
  }
  if (oldSize > cp.size) return text(400, `old size ${oldSize} is larger than the checkpoint size ${cp.size}`);
  const stored = o.state.get(origin);
  const storedSize = stored?.size ?? 0;
  if (oldSize !== storedSize) return { status: 409, body: `${storedSize}\n`, contentType: 'text/x.tlog.size' };
  const refuse = (reason: string): WitnessResponse => {
    o.onRefused?.(origin, reason, request);
    return text(422, reason);
  };
  if (cp.size === 0 && !equalBytes(cp.root, EMPTY_ROOT)) return refuse('a checkpoint of size 0 must have the empty tree root');
  if (oldSize === 0) {
    if (proof.length > 0) return refuse('the consistency proof from size 0 must be empty');
  } else if (oldSize === cp.size) {
    if (proof.length > 0 || toBase64(cp.root) !== stored!.root) return refuse(`a different root for size ${cp.size} than the one cosigned: the log forked`);
  } else {
    try {
      verifyConsistency(oldSize, cp.size, proof, fromBase64(stored!.root)!, cp.root);
    } catch {
      return refuse(`the checkpoint of size ${cp.size} is not consistent with the one cosigned at size ${oldSize}`);
    }
  }
  const timestamp = Math.floor((o.clock ?? (() => new Date()))().getTime() / 1000);
  const line = o.cosigner.cosign(body, timestamp);
  o.state.set(origin, { size: cp.size, root: toBase64(cp.root), note: `${note}${line}` });
  return { status: 200, body: line, contentType: 'text/plain; charset=utf-8' };
}

/** GET <monitoring prefix>/<origin hash>/checkpoint: the latest cosigned checkpoint of a log. */
export function latestCosigned(originHash: string, o: Pick<WitnessOptions, 'logs' | 'state'>): string | undefined {
  for (const origin of o.logs.keys()) {
    if (createHash('sha256').update(origin).digest('hex') === originHash) return o.state.get(origin)?.note;
  }
  return undefined;
}
