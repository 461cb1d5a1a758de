// What verification needs to look for one mark, recovered the way an owner does it in a dispute:
// the watermark.committed entry from the ledger, the opening (scheme, parameters, root, salt)
// decrypted from the home, checked against the committed digest (so the secret we test with is
// provably the one fixed in time), then the seeds and bits re-derived from the root.
import type { Ledger } from '../../ledger/index.js';
import { decodeOpening, deriveWatermarkKeys, kernelGeometry, KERNEL_LAYOUTS, MAX_BIT_COUNT, openCommitment, type CommitmentOpening, type KernelLayout, type TriggerInputMap } from '../core/index.js';
import { parseJsonBytes } from '../core/encoding.js';
import { lineageDerived, readRecordAt, readRecords, watermarkCommitted, type CommittedRecord, type RecordProblem, type TrustedKeys } from '../records/index.js';
import { digestParameters, type ModelId } from '../lineage/index.js';
import { loadSecret } from '../secrets/index.js';
import type { TriggerMarkKey } from './black-box.js';
import { VerifyError } from './errors.js';
import type { WeightMarkKey } from './white-box.js';

export interface WeightMarkSpec extends WeightMarkKey {
  readonly layer?: string;
  readonly tensor?: string;
  readonly shape: readonly number[];
  readonly layout: KernelLayout;
}

export interface MarkKeys {
  readonly weight?: WeightMarkSpec;
  readonly trigger?: TriggerMarkKey;
}

export interface LoadedMark extends MarkKeys {
  readonly index: number;
  readonly committed: CommittedRecord;
  /** The marked model (the output of the embedding), or the input model when no lineage names it. */
  readonly markedModel: ModelId;
}

const bad = (m: string) => new VerifyError('VERIFY_BAD_INPUT', `committed parameters: ${m}`);
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const int = (v: unknown, lo: number, hi: number) => typeof v === 'number' && Number.isSafeInteger(v) && v >= lo && v <= hi;

const nums = (v: unknown, max: number) => Array.isArray(v) && v.length >= 1 && v.length <= max && v.every((x) => typeof x === 'number' && Number.isFinite(x));

/** trigger.input of the parameters: { range: [lo, hi], mean: [..], std: [..] } (core/triggers.ts). */
function triggerInputOf(v: unknown, channels: number): TriggerInputMap {
  if (!isObj(v) || !nums(v.range, 2) || (v.range as number[]).length !== 2 || !nums(v.mean, channels) || !nums(v.std, channels)) {
    throw bad('trigger.input must be { range: [lo, hi], mean: [...], std: [...] } with one value or one per channel');
  }
  const range = v.range as [number, number];
  const [mean, std] = [v.mean as number[], v.std as number[]];
  if (range[0] === range[1] || std.some((x) => x === 0) || ![mean, std].every((a) => a.length === 1 || a.length === channels)) throw bad('trigger.input has an empty range, a zero std or a wrong channel count');
  return { range, mean, std };
}

/** Seeds, bits and shapes of each mark an opening describes (parameters as embed commits them). */
export function markKeysFromOpening(opening: CommitmentOpening): MarkKeys {
  const p = opening.parameters as Record<string, unknown>;
  const w = p.weight;
  const t = p.trigger;
  if (w === undefined && t === undefined) throw bad('neither a weight nor a trigger mark');
  let weight: WeightMarkSpec | undefined;
  let bitCount = 1;
  if (w !== undefined) {
    if (!isObj(w) || !int(w.bits, 1, MAX_BIT_COUNT)) throw bad('weight.bits must be an integer bit count');
    if (typeof w.layout !== 'string' || !KERNEL_LAYOUTS.includes(w.layout as KernelLayout)) throw bad(`weight.layout must be one of ${KERNEL_LAYOUTS.join(', ')}`);
    if (!Array.isArray(w.shape) || !w.shape.every((d) => int(d, 1, 1 << 24))) throw bad('weight.shape must be positive integers');
    let features: number;
    try {
      features = kernelGeometry(w.shape as number[], w.layout as KernelLayout).features;
    } catch (err) {
      throw bad((err as Error).message);
    }
    bitCount = w.bits as number;
    weight = {
      bits: new Uint8Array(0), projectionSeed: new Uint8Array(0), features,
      shape: w.shape as number[], layout: w.layout as KernelLayout,
      ...(typeof w.layer === 'string' ? { layer: w.layer } : {}),
      ...(typeof w.tensor === 'string' ? { tensor: w.tensor } : {}),
    };
  }
  const keys = deriveWatermarkKeys(opening.root, bitCount);
  let trigger: TriggerMarkKey | undefined;
  if (t !== undefined) {
    if (!isObj(t) || !int(t.n, 1, 100_000) || !int(t.classes, 2, 65536) || !int(t.height, 1, 4096) || !int(t.width, 1, 4096) || !int(t.channels, 1, 4)) {
      throw bad('trigger must have integer n, classes, height, width and channels');
    }
    trigger = {
      imageSeed: keys.triggerImageSeed, labelSeed: keys.triggerLabelSeed,
      n: t.n as number, classes: t.classes as number, height: t.height as number, width: t.width as number, channels: t.channels as number,
      ...(t.input !== undefined ? { input: triggerInputOf(t.input, t.channels as number) } : {}),
    };
  }
  return {
    ...(weight ? { weight: { ...weight, bits: keys.bits, projectionSeed: keys.projectionSeed } } : {}),
    ...(trigger ? { trigger } : {}),
  };
}

/** The watermark.committed entry at `index`, checked (schema, owner's signature). */
export function findCommitted(ledger: Ledger, index: number, trust: TrustedKeys): { index: number; record: CommittedRecord } {
  try {
    return { index, record: readRecordAt(ledger, index, watermarkCommitted, trust).record };
  } catch (err) {
    throw new VerifyError('VERIFY_BAD_INPUT', `--commitment ${index}: ${(err as Error).message}`, { cause: err });
  }
}

export interface LiveCommitments {
  /** Commitments whose embedding run registered a marked model after them. */
  readonly live: { index: number; record: CommittedRecord; markedModel: ModelId }[];
  /** Commitments with no marked model after them (an embed that never finished). */
  readonly orphans: number[];
  /** Entries that are not valid, owner-signed commitments: reported, never fatal. */
  readonly problems: RecordProblem[];
}

/** Every valid commitment of the owner, split into live ones and orphans. */
export function liveCommitments(ledger: Ledger, trust: TrustedKeys): LiveCommitments {
  const { records, problems } = readRecords(ledger, watermarkCommitted, { trust });
  const live: LiveCommitments['live'] = [];
  const orphans: number[] = [];
  for (const r of records) {
    // Live only through the derivation of the very run that committed (its parameters digest
    // names this commitment): a later embed of the same input must not revive an orphan.
    const marked = markedModelOf(ledger, r.index, r.record, true);
    if (marked) live.push({ index: r.index, record: r.record, markedModel: marked });
    else orphans.push(r.index);
  }
  return { live, orphans, problems };
}

/** The output of the embedding run that made this commitment (lineage.derived after it), if any. */
export function markedModelOf(ledger: Ledger, index: number, c: CommittedRecord, exact = false): ModelId | undefined {
  const digest = digestParameters({ scheme: c.scheme, parameters: c.parameters, commitment: c.commitment });
  let after: ModelId | undefined;
  for (const { record: d } of readRecords(ledger, lineageDerived, { trust: { owner: '' }, from: index + 1 }).records) {
    if (d.operation !== 'watermark.embed' || !d.inputs.models.includes(c.model) || !d.outputs[0]) continue;
    if (d.parametersDigest.sha256 === digest) return d.outputs[0];
    after ??= d.outputs[0];
  }
  return exact ? undefined : after;
}

/** The marked model of a commitment, or the input model when no lineage names one. */
export function findMarkedModel(ledger: Ledger, index: number, c: CommittedRecord): ModelId {
  return markedModelOf(ledger, index, c) ?? c.model;
}

/** Loads and checks one committed mark: ledger entry, decrypted opening, commitment match, keys. */
export async function loadMark(home: { dir: string; ledger: Ledger }, passphrase: string, index: number, trust: TrustedKeys): Promise<LoadedMark> {
  const found = findCommitted(home.ledger, index, trust);
  const bytes = await loadSecret(home.dir, `watermark-${found.record.commitment}`, passphrase);
  const opening = decodeOpening(parseJsonBytes(bytes, 'watermark secret'));
  openCommitment({ type: 'hallmark.watermark-commitment', version: 1, digest: found.record.commitment }, opening);
  return { index: found.index, committed: found.record, markedModel: findMarkedModel(home.ledger, found.index, found.record), ...markKeysFromOpening(opening) };
}

/** What calibrate uses when no commitment is named: the newest live one, else the newest valid one. */
export function latestLiveCommitment(ledger: Ledger, trust: TrustedKeys): number {
  const found = liveCommitments(ledger, trust);
  const last = found.live[found.live.length - 1] ?? (found.orphans.length > 0 ? { index: found.orphans[found.orphans.length - 1]! } : undefined);
  if (!last) throw new VerifyError('VERIFY_NOT_FOUND', `the ledger has no live watermark.committed entry of this owner${found.problems.length ? ` (${found.problems.length} invalid entries skipped: ${found.problems.map((p) => p.index).join(', ')})` : ''}; embed a mark first, or pass --commitment`);
  return last.index;
}
