// RFC 3161 tokens inside bundles. Each one stamps the exact bytes of a signed checkpoint note of
// the same log, and carries a consistency proof from that checkpoint to the bundle's, so the
// token dates every entry the older checkpoint covers.
import type * as pkijs from 'pkijs';
import { parseCheckpoint, toBase64, type Ledger } from '../../ledger/index.js';
import { isHallmarkError } from '../../ledger/index.js';
import { verifyTimestampToken, type StoredTimestamp } from '../tsa/index.js';
import { failed } from './errors.js';
import { openLogCheckpoint, verifyCheckpointConsistency, type ConsistencyJson, type VerifiedCheckpoint } from './log-proofs.js';
import { arr, decodeBase64, obj } from './strict-json.js';

export const MAX_BUNDLE_TIMESTAMPS = 8;

export interface TimestampJson {
  checkpoint: string;
  token: string;
  consistency: ConsistencyJson;
}

export interface VerifiedTimestamp {
  readonly size: number;
  readonly genTime: string;
  readonly signer: string;
  readonly chainVerified: boolean;
}

/**
 * Chooses stored tokens worth shipping: for each index to date, the earliest token whose
 * checkpoint covers it, and the latest token within the bundle's checkpoint.
 */
export function pickTimestamps(stored: readonly StoredTimestamp[], ledger: Ledger, bundleSize: number, indices: readonly number[]): TimestampJson[] {
  const usable = stored.filter((t) => {
    try {
      return t.size > 0 && t.size <= bundleSize && parseCheckpoint(t.checkpoint.slice(0, t.checkpoint.lastIndexOf('\n\n') + 1)).size === t.size;
    } catch {
      return false;
    }
  });
  const chosen = new Set<StoredTimestamp>();
  for (const i of indices) {
    const t = usable.find((u) => u.size > i);
    if (t) chosen.add(t);
  }
  if (usable.length > 0) chosen.add(usable[usable.length - 1]!);
  return [...chosen].sort((a, b) => a.size - b.size).slice(0, MAX_BUNDLE_TIMESTAMPS).map((t) => ({
    checkpoint: t.checkpoint,
    token: toBase64(t.token),
    consistency: { from: t.size, to: bundleSize, proof: ledger.consistencyProof(t.size, bundleSize).hashes.map(toBase64) },
  }));
}

export async function verifyBundleTimestamps(v: unknown, logKey: string, bundleCp: VerifiedCheckpoint, caCerts: readonly pkijs.Certificate[] | undefined): Promise<VerifiedTimestamp[]> {
  const list = arr(v, 'timestamps', MAX_BUNDLE_TIMESTAMPS);
  const out: VerifiedTimestamp[] = [];
  for (const [k, item] of list.entries()) {
    const what = `timestamp ${k + 1}`;
    const o = obj(item, what, ['checkpoint', 'token', 'consistency']);
    const cp = openLogCheckpoint(o.checkpoint, logKey, `${what} checkpoint`);
    if (out.length > 0 && cp.size <= out[out.length - 1]!.size) throw failed(`${what} is out of order (sizes must increase)`);
    verifyCheckpointConsistency(o.consistency, cp, bundleCp, `${what} consistency proof`);
    const token = decodeBase64(o.token, `${what} token`, 256 << 10);
    try {
      const info = await verifyTimestampToken(token, new TextEncoder().encode(cp.note), caCerts ? { caCerts } : {});
      out.push({ size: cp.size, genTime: info.genTime.toISOString(), signer: info.signer, chainVerified: info.chainVerified });
    } catch (err) {
      if (isHallmarkError(err)) throw failed(`${what} (checkpoint of size ${cp.size}): ${err.message}`, err);
      throw err;
    }
  }
  return out;
}
