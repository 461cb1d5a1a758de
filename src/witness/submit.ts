// The log side of tlog-witness: submit the current checkpoint to every witness of a tlog-policy
// (with a consistency proof from the size that witness last cosigned), keep the cosignatures that
// verify, and publish the checkpoint with them only when the policy's quorum is met.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { toBase64, type Ledger, type SignedCheckpoint } from '../../ledger/index.js';
import { parseCosignatureLine, verifyCosignature } from './cosignature.js';
import { WitnessError } from './errors.js';
import { quorumMet, type Policy, type PolicyWitness } from './policy.js';

export interface SubmitOutcome {
  readonly witness: string;
  readonly ok: boolean;
  readonly detail: string;
}

export interface PublishResult {
  readonly checkpoint: SignedCheckpoint;
  /** The checkpoint with the log's signature and the witnesses' cosignatures. */
  readonly note: string;
  readonly outcomes: readonly SubmitOutcome[];
  readonly quorumMet: boolean;
}

export type Fetch = (url: string, init: RequestInit) => Promise<Response>;

/** Sizes each witness last cosigned, remembered between runs (a hint: a 409 corrects it). */
function readSizes(path: string): Record<string, number> {
  if (!existsSync(path)) return {};
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as Record<string, number>;
    return typeof v === 'object' && v !== null ? v : {};
  } catch {
    return {};
  }
}

function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/** A kept-alive connection the witness closed meanwhile fails once; one retry on a fresh one. */
async function post(fetcher: Fetch, url: string, body: string, timeoutMs: number): Promise<{ status: number; text: string; type: string }> {
  try {
    return await postOnce(fetcher, url, body, timeoutMs);
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    return postOnce(fetcher, url, body, timeoutMs);
  }
}

async function postOnce(fetcher: Fetch, url: string, body: string, timeoutMs: number): Promise<{ status: number; text: string; type: string }> {
  const ctl = new AbortController();
  const t = setTimeout(() => ctl.abort(), timeoutMs);
  try {
    const r = await fetcher(`${url.replace(/\/+$/, '')}/add-checkpoint`, { method: 'POST', body, signal: ctl.signal, headers: { 'content-type': 'text/plain' } });
    return { status: r.status, text: (await r.text()).slice(0, 4096), type: r.headers.get('content-type') ?? '' };
  } finally {
    clearTimeout(t);
  }
}

function requestBody(ledger: Ledger, oldSize: number, cp: SignedCheckpoint): string {
  const proof = oldSize > 0 && oldSize < cp.size ? ledger.consistencyProof(oldSize, cp.size).hashes : [];
  return `old ${oldSize}\n${proof.map((h) => `${toBase64(h)}\n`).join('')}\n${cp.note}`;
}

/** One witness: submit, follow one 409 to the size it reports, verify the cosignature. */
async function submitTo(ledger: Ledger, w: PolicyWitness, cp: SignedCheckpoint, sizes: Record<string, number>, fetcher: Fetch, timeoutMs: number): Promise<{ line?: string; detail: string }> {
  let old = Math.min(sizes[w.vkey] ?? 0, cp.size);
  for (let attempt = 0; attempt < 2; attempt++) {
    const r = await post(fetcher, w.url!, requestBody(ledger, old, cp), timeoutMs);
    if (r.status === 409 && r.type.startsWith('text/x.tlog.size') && attempt === 0) {
      const m = /^(0|[1-9][0-9]{0,15})\n$/.exec(r.text);
      if (!m) return { detail: 'answered 409 without a size' };
      const theirs = Number(m[1]);
      if (theirs > cp.size) return { detail: `has cosigned size ${theirs}, beyond this checkpoint (${cp.size}): a fork, or a rollback of this log` };
      old = theirs;
      continue;
    }
    if (r.status !== 200) return { detail: `answered ${r.status}: ${r.text.split('\n')[0]}` };
    const body = cp.note.slice(0, cp.note.lastIndexOf('\n\n') + 1);
    for (const line of r.text.split('\n').filter((l) => l !== '')) {
      const c = parseCosignatureLine(line);
      if (c && verifyCosignature(w, body, c)) {
        sizes[w.vkey] = cp.size;
        return { line: `${line}\n`, detail: `cosigned at ${new Date(c.timestamp * 1000).toISOString()}` };
      }
    }
    return { detail: 'answered 200 without a valid cosignature from its key' };
  }
  return { detail: 'answered 409 twice' };
}

export interface PublishOptions {
  readonly homeDir: string;
  readonly fetch?: Fetch;
  readonly timeoutMs?: number;
}

/** Paths in the home: the published (cosigned) checkpoint and the witnesses' last sizes. */
export const publishedPath = (homeDir: string) => join(homeDir, 'checkpoint.published');
const sizesPath = (homeDir: string) => join(homeDir, 'witness-sizes.json');

export async function publishCheckpoint(ledger: Ledger, policy: Policy, o: PublishOptions): Promise<PublishResult> {
  const cp = ledger.checkpoint();
  const sizes = readSizes(sizesPath(o.homeDir));
  const fetcher = o.fetch ?? ((u, i) => fetch(u, i));
  const ws = [...policy.witnesses.values()].filter((w) => w.url);
  const results = await Promise.all(ws.map((w) => submitTo(ledger, w, cp, sizes, fetcher, o.timeoutMs ?? 10_000).catch((err: Error) => ({ detail: `unreachable: ${err.name === 'AbortError' ? 'timed out' : err.message}` }) as { line?: string; detail: string })));
  writeAtomic(sizesPath(o.homeDir), `${JSON.stringify(sizes)}\n`);
  const cosigned = new Set<string>();
  let note = cp.note;
  const outcomes = ws.map((w, i) => {
    const r = results[i]!;
    if (r.line) {
      cosigned.add(w.policyName);
      note += r.line;
    }
    return { witness: w.policyName, ok: r.line !== undefined, detail: r.detail };
  });
  const met = quorumMet(policy, cosigned);
  if (met) writeAtomic(publishedPath(o.homeDir), note);
  return { checkpoint: cp, note, outcomes, quorumMet: met };
}

/** The published checkpoint, if any. */
export function readPublished(homeDir: string): string | undefined {
  const p = publishedPath(homeDir);
  return existsSync(p) ? readFileSync(p, 'utf8') : undefined;
}

export function quorumError(r: PublishResult): WitnessError {
  return new WitnessError('WITNESS_QUORUM_NOT_MET', `the witnesses' cosignatures do not meet the policy's quorum; checkpoint ${r.checkpoint.size} not published (${r.outcomes.map((x) => `${x.witness}: ${x.detail}`).join('; ')})`);
}

/** The home's policy and published (cosigned) checkpoint, when both exist: what bundles carry. */
export function homeWitnessing(homeDir: string): { policy: string; published: string } | undefined {
  const policy = join(homeDir, 'tlog-policy');
  const published = readPublished(homeDir);
  return existsSync(policy) && published ? { policy: readFileSync(policy, 'utf8'), published } : undefined;
}
