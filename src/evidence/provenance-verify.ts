// Offline check of a provenance bundle, trusting only the log's verifier key given by the caller
// (and, optionally, the owner's key and a TSA CA). Every field of the bundle is checked or
// recomputed; the first failure throws EVIDENCE_VERIFY_FAILED naming what failed.
import type * as pkijs from 'pkijs';
import { canonicalJson, equalBytes, type JsonValue } from '../../ledger/index.js';
import { isModelId } from '../lineage/index.js';
import { verifyBundleTimestamps, type VerifiedTimestamp } from './bundle-timestamps.js';
import { IN_TOTO_PAYLOAD_TYPE, readEnvelope, verifyEnvelope } from './dsse.js';
import { EvidenceError, failed, malformed } from './errors.js';
import { closeLineage, type Closure } from './lineage-closure.js';
import { openLogCheckpoint, verifyProvenEntries } from './log-proofs.js';
import { dsseKeyId, parseVerifierKey } from './owner-key.js';
import { PROVENANCE_FORMAT } from './provenance-bundle.js';
import { buildProvenanceStatement } from './provenance-statement.js';
import { obj, parseBundleJson, str } from './strict-json.js';
import { verifyWitnessed, type VerifiedWitnessing } from './witnessed.js';

export const MAX_PROVENANCE_BYTES = 64 << 20;

export interface VerifyProvenanceOptions {
  /** The log's verifier key string: the one thing trusted about the log. */
  readonly logKey: string;
  /** When given, the DSSE statement must be signed by this owner key, not just the one named inside. */
  readonly ownerKey?: string;
  /** Trust anchors for RFC 3161 tokens; without them the token signatures are still checked. */
  readonly tsaCaCerts?: readonly pkijs.Certificate[];
  /** issue 15: a tlog-policy text; when given the bundle must be witnessed per this policy. */
  readonly policy?: string;
}

export interface ProvenanceResult {
  readonly model: string;
  readonly origin: string;
  readonly size: number;
  readonly ownerKey: string;
  /** True when the owner key was given by the caller rather than taken from the bundle. */
  readonly ownerKeyPinned: boolean;
  readonly closure: Closure;
  readonly timestamps: VerifiedTimestamp[];
  readonly witnessing?: VerifiedWitnessing;
}

export async function verifyProvenanceBundle(text: string, options: VerifyProvenanceOptions): Promise<ProvenanceResult> {
  const b = obj(parseBundleJson(text, 'provenance bundle', MAX_PROVENANCE_BYTES), 'provenance bundle', ['format', 'model', 'log', 'checkpoint', 'entries', 'owner', 'statement', 'timestamps'], ['witnessed']);
  if (b.format !== PROVENANCE_FORMAT) {
    if (typeof b.format === 'string' && b.format.startsWith('hallmark/provenance-bundle/')) throw new EvidenceError('EVIDENCE_UNSUPPORTED_VERSION', `bundle format "${b.format.slice(0, 80)}" is not supported; this reader knows ${PROVENANCE_FORMAT}`);
    throw malformed(`not a provenance bundle (format is not ${PROVENANCE_FORMAT})`);
  }
  const model = str(b.model, 'model', 200);
  if (!isModelId(model)) throw malformed('bundle model is not a model id');
  const trusted = parseVerifierKey(options.logKey);
  const log = obj(b.log, 'log', ['origin', 'verifierKey']);
  if (log.verifierKey !== trusted.verifierKey) throw failed('the bundle names a different log key than the one given (--pubkey)');
  const cp = openLogCheckpoint(b.checkpoint, trusted.verifierKey, 'checkpoint');
  if (log.origin !== cp.origin) throw failed(`log origin "${String(log.origin).slice(0, 80)}" does not match the checkpoint's "${cp.origin}"`);
  const entries = verifyProvenEntries(b.entries, cp, 'entries');
  const closure = closeLineage(entries, model, true);

  const ownerField = obj(b.owner, 'owner', ['verifierKey']);
  const owner = parseVerifierKey(str(ownerField.verifierKey, 'owner.verifierKey', 500));
  if (options.ownerKey !== undefined && parseVerifierKey(options.ownerKey).verifierKey !== owner.verifierKey) throw failed('the statement is signed by a different owner key than the one given (--owner-key)');
  const env = readEnvelope(b.statement, 'statement envelope');
  if (env.payloadType !== IN_TOTO_PAYLOAD_TYPE) throw failed(`statement payloadType is "${env.payloadType.slice(0, 80)}", want ${IN_TOTO_PAYLOAD_TYPE}`);
  if (env.signatures.length !== 1) throw failed('statement envelope must carry exactly one signature');
  const body = verifyEnvelope(env, { keyid: dsseKeyId(owner), publicKey: owner.publicKey }, 'statement envelope');
  const want = new TextEncoder().encode(canonicalJson(buildProvenanceStatement(model, closure, cp) as JsonValue));
  if (!equalBytes(body, want)) throw failed('the signed in-toto statement does not match the proven entries and checkpoint');

  const timestamps = await verifyBundleTimestamps(b.timestamps, trusted.verifierKey, cp, options.tsaCaCerts);
  if (options.policy !== undefined && b.witnessed === undefined) throw failed('a policy was given but the bundle carries no witnessed checkpoint');
  const witnessing = b.witnessed === undefined ? undefined : verifyWitnessed(b.witnessed, cp, trusted.verifierKey, options.policy);
  return { model, origin: cp.origin, size: cp.size, ownerKey: owner.verifierKey, ownerKeyPinned: options.ownerKey !== undefined, closure, timestamps, ...(witnessing ? { witnessing } : {}) };
}

/** A readable account of what was proved. */
export function formatProvenance(r: ProvenanceResult): string {
  const lines = [`verified: lineage of ${r.model}`, `log ${r.origin}, checkpoint of size ${r.size}, signature OK`];
  lines.push(`statement signed by ${r.ownerKey}${r.ownerKeyPinned ? ' (the key you gave)' : ' (key named in the bundle; pass --owner-key to pin it)'}`);
  const models = [...r.closure.models.entries()].sort((a, b) => a[1].index - b[1].index);
  for (const [id, m] of models) lines.push(`  model    ${id}  ${m.record.model.name} (${m.record.format}, entry ${m.index})${id === r.model ? '  <- subject' : ''}`);
  for (const [id, d] of [...r.closure.datasets.entries()].sort((a, b) => a[1].index - b[1].index)) lines.push(`  dataset  ${id}  ${d.record.dataset.name} (${d.record.items} items, entry ${d.index})`);
  for (const d of r.closure.derivations) lines.push(`  derived  entry ${d.index}: ${d.record.operation} ${[...d.record.inputs.models, ...d.record.inputs.datasets].join(', ')} -> ${d.record.outputs.join(', ')}`);
  for (const c of r.closure.commitments) lines.push(`  commit   entry ${c.index}: ${c.record.scheme} watermark for ${c.record.model}, commitment ${c.record.commitment.slice(0, 16)}…`);
  for (const t of r.timestamps) lines.push(`  RFC 3161 timestamp: checkpoint of size ${t.size} existed by ${t.genTime} (TSA ${t.signer}; chain to CA ${t.chainVerified ? 'verified' : 'not checked: pass --tsa-ca'})`);
  if (r.timestamps.length === 0) lines.push('  no RFC 3161 timestamp in the bundle');
  if (r.witnessing) lines.push(`  witnessed: checkpoint of size ${r.witnessing.size} cosigned by ${r.witnessing.witnesses.map((w) => w.witness).join(', ') || 'nobody (quorum none)'}, consistent with this one${r.witnessing.policyPinned ? '' : ' (policy from the bundle; pass --policy to pin it)'}`);
  lines.push(`${r.closure.indices.length} entries, every inclusion proof and chain link checked`);
  return lines.join('\n');
}
