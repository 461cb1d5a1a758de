// `verification.recorded` (writer: service, i.e. the owner's key or a listed service key), written by the verification code and read here
// defensively: it comes out of a ledger or a bundle, and every number in it goes into a report.
import { invalid as malformed } from '../errors.js';
import { checkSchema, type RecordType } from '../record-type.js';
import { isModelId, type ModelId } from '../resource.js';

export const VERIFICATION_RECORDED = 'verification.recorded';
export const VERIFICATION_SCHEMA = 'hallmark/verification.recorded/v1';

export interface FileSuspect {
  readonly kind: 'file';
  readonly descriptor: { readonly name: string; readonly digest: { readonly sha256: string }; readonly mediaType?: string };
}

export interface EndpointSuspect {
  readonly kind: 'endpoint';
  readonly url: string;
  readonly protocol: 'oip-v2' | 'tfserving';
}

export interface WeightResult {
  readonly bits: number;
  readonly matches: number;
  readonly ber: number;
  /** P[X >= matches], X ~ Binomial(bits, 1/2), for the best candidate tensor alone. */
  readonly pValue: number;
  readonly tensor?: string;
  /** Tensors (x layouts) searched by shape: the Bonferroni factor. */
  readonly candidates?: number;
  /** min(1, candidates * pValue): the weight mark's p-value after the search. */
  readonly correctedPValue?: number;
}

export interface TriggerResult {
  readonly n: number;
  readonly matches: number;
  readonly classes: number;
  readonly chanceRate: number;
  readonly nullSource: 'calibrated' | 'uniform';
  /** Agreement rates of independent unmarked models, when calibrated. */
  readonly nullDistribution?: readonly number[];
  /** Ledger index of the calibration.recorded entry the null came from. */
  readonly calibration?: number;
  readonly pValue: number;
}

/** A fingerprint test (src/fingerprint): the suspect's agreement with the committed target labels. */
export interface FingerprintResult {
  /** The fingerprint.committed entry. */
  readonly commitment: { readonly index: number; readonly commitment: string };
  readonly n: number;
  readonly matches: number;
  readonly classes: number;
  readonly chanceRate: number;
  /** Agreement rates of fresh reference models (calibration.recorded). */
  readonly nullDistribution: readonly number[];
  readonly calibration: number;
  readonly pValue: number;
}

/**
 * Guard marks (src/guard, `verify --guard-client|--guard-all`): per client, the suspect's answers
 * on the committed watermark set against the wrong labels the guard gave. p is the exact binomial
 * tail P[X >= matches], X ~ Binomial(n, chance); the decision is Bonferroni over `tests` clients.
 */
export interface GuardClientResult {
  readonly client: string;
  /** The guard.committed entry the set was checked against (its root and count). */
  readonly commitment: { readonly index: number; readonly root: string; readonly count: number };
  readonly n: number;
  readonly matches: number;
  readonly classes: number;
  readonly chanceRate: number;
  /** 'bound': 1/(C-1), no calibration; 'calibrated': a guard.calibrated entry. */
  readonly nullSource: 'calibrated' | 'bound';
  readonly calibration?: number;
  readonly pValue: number;
}

export interface GuardResult {
  readonly clients: readonly GuardClientResult[];
  /** The Bonferroni m: clients tested. */
  readonly tests: number;
  /** min(1, tests * min p). */
  readonly familyPValue: number;
}

/** A verification with guard marks only (no watermark.committed, no marked model named). */
export interface GuardVerificationRecord {
  readonly schema: typeof VERIFICATION_SCHEMA;
  readonly suspect: FileSuspect | EndpointSuspect;
  readonly method: 'guard';
  readonly ownerKey: string;
  readonly guard: GuardResult;
  readonly alpha: number;
  readonly owned: boolean;
  readonly backend?: string;
}

export interface VerificationRecord {
  readonly schema: typeof VERIFICATION_SCHEMA;
  /** The id of our marked model. */
  readonly model: ModelId;
  readonly suspect: FileSuspect | EndpointSuspect;
  readonly method: 'white-box' | 'black-box' | 'both';
  /** The watermark.committed entry the marks were checked against. */
  readonly commitment: { readonly index: number; readonly commitment: string };
  readonly ownerKey: string;
  readonly weight?: WeightResult;
  readonly trigger?: TriggerResult;
  readonly fingerprint?: FingerprintResult;
  readonly alpha: number;
  readonly owned: boolean;
  readonly backend?: string;
  /** When verify tried every live commitment: how many, and the tests run over all of them (the Bonferroni m). */
  readonly family?: { readonly commitments: number; readonly tests: number };
}

const MAX_COUNT = 1 << 24;
const MAX_NULL = 10_000;
const HEX64 = /^[0-9a-f]{64}$/;

type O = Record<string, unknown>;
const isObj = (v: unknown): v is O => typeof v === 'object' && v !== null && !Array.isArray(v);
const count = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v <= MAX_COUNT;
const prob = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= 1;

function only(o: O, allowed: string[], where: string): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) throw malformed(`${where} has an unknown field "${k.slice(0, 40)}"`);
}

function readSuspect(v: unknown, where: string): FileSuspect | EndpointSuspect {
  if (!isObj(v)) throw malformed(`${where} is not an object`);
  if (v.kind === 'file') {
    only(v, ['kind', 'descriptor'], where);
    const d = v.descriptor;
    if (!isObj(d)) throw malformed(`${where}.descriptor is not an object`);
    only(d, ['name', 'digest', 'mediaType'], `${where}.descriptor`);
    if (typeof d.name !== 'string' || d.name.length === 0 || d.name.length > 500) throw malformed(`${where}.descriptor.name must be a short string`);
    if (!isObj(d.digest) || Object.keys(d.digest).join() !== 'sha256' || typeof d.digest.sha256 !== 'string' || !HEX64.test(d.digest.sha256)) throw malformed(`${where}.descriptor.digest must be { sha256: <64 hex> }`);
    if (d.mediaType !== undefined && (typeof d.mediaType !== 'string' || d.mediaType.length > 200)) throw malformed(`${where}.descriptor.mediaType must be a short string`);
  } else if (v.kind === 'endpoint') {
    only(v, ['kind', 'url', 'protocol'], where);
    if (typeof v.url !== 'string' || v.url.length > 2000 || !/^https?:\/\//.test(v.url)) throw malformed(`${where}.url must be an http(s) URL`);
    if (v.protocol !== 'oip-v2' && v.protocol !== 'tfserving') throw malformed(`${where}.protocol must be oip-v2 or tfserving`);
  } else {
    throw malformed(`${where}.kind must be "file" or "endpoint"`);
  }
  return v as unknown as FileSuspect | EndpointSuspect;
}

function readWeight(v: unknown, where: string): WeightResult {
  if (!isObj(v)) throw malformed(`${where} is not an object`);
  only(v, ['bits', 'matches', 'ber', 'pValue', 'tensor', 'candidates', 'correctedPValue'], where);
  if (v.candidates !== undefined && (!count(v.candidates) || (v.candidates as number) === 0)) throw malformed(`${where}.candidates must be a positive count`);
  if (v.correctedPValue !== undefined && !prob(v.correctedPValue)) throw malformed(`${where}.correctedPValue must be a number in [0, 1]`);
  if (!count(v.bits) || (v.bits as number) === 0 || !count(v.matches) || (v.matches as number) > (v.bits as number)) throw malformed(`${where}: bits and matches must be counts with matches <= bits`);
  if (!prob(v.ber) || !prob(v.pValue)) throw malformed(`${where}: ber and pValue must be numbers in [0, 1]`);
  if (v.tensor !== undefined && (typeof v.tensor !== 'string' || v.tensor.length > 500)) throw malformed(`${where}.tensor must be a short string`);
  return v as unknown as WeightResult;
}

function readTrigger(v: unknown, where: string): TriggerResult {
  if (!isObj(v)) throw malformed(`${where} is not an object`);
  only(v, ['n', 'matches', 'classes', 'chanceRate', 'nullSource', 'nullDistribution', 'calibration', 'pValue'], where);
  if (v.calibration !== undefined && !count(v.calibration)) throw malformed(`${where}.calibration must be a ledger index`);
  if (!count(v.n) || (v.n as number) === 0 || !count(v.matches) || (v.matches as number) > (v.n as number)) throw malformed(`${where}: n and matches must be counts with matches <= n`);
  if (!count(v.classes) || (v.classes as number) < 2) throw malformed(`${where}.classes must be at least 2`);
  if (!prob(v.chanceRate) || !prob(v.pValue)) throw malformed(`${where}: chanceRate and pValue must be numbers in [0, 1]`);
  if (v.nullSource !== 'calibrated' && v.nullSource !== 'uniform') throw malformed(`${where}.nullSource must be calibrated or uniform`);
  if (v.nullDistribution !== undefined && (!Array.isArray(v.nullDistribution) || v.nullDistribution.length > MAX_NULL || !v.nullDistribution.every(prob))) {
    throw malformed(`${where}.nullDistribution must be at most ${MAX_NULL} rates in [0, 1]`);
  }
  return v as unknown as TriggerResult;
}

const CLIENT = /^[0-9a-f]{12}$/;
const MAX_CLIENTS = 10_000;

function readGuard(v: unknown, where: string): GuardResult {
  if (!isObj(v)) throw malformed(`${where} is not an object`);
  only(v, ['clients', 'tests', 'familyPValue'], where);
  if (!Array.isArray(v.clients) || v.clients.length === 0 || v.clients.length > MAX_CLIENTS) throw malformed(`${where}.clients must hold 1 to ${MAX_CLIENTS} results`);
  v.clients.forEach((c, i) => {
    const w = `${where}.clients[${i}]`;
    if (!isObj(c)) throw malformed(`${w} is not an object`);
    only(c, ['client', 'commitment', 'n', 'matches', 'classes', 'chanceRate', 'nullSource', 'calibration', 'pValue'], w);
    if (typeof c.client !== 'string' || !CLIENT.test(c.client)) throw malformed(`${w}.client must be an API key id`);
    const k = c.commitment;
    if (!isObj(k) || Object.keys(k).sort().join() !== 'count,index,root' || !count(k.index) || !count(k.count) || typeof k.root !== 'string' || !HEX64.test(k.root)) throw malformed(`${w}.commitment must be { index, root: <64 hex>, count }`);
    if (!count(c.n) || (c.n as number) === 0 || c.n !== k.count || !count(c.matches) || (c.matches as number) > (c.n as number)) throw malformed(`${w}: n must be the committed count and matches <= n`);
    if (!count(c.classes) || (c.classes as number) < 2) throw malformed(`${w}.classes must be at least 2`);
    if (!prob(c.chanceRate) || !prob(c.pValue)) throw malformed(`${w}: chanceRate and pValue must be numbers in [0, 1]`);
    if (c.nullSource !== 'calibrated' && c.nullSource !== 'bound') throw malformed(`${w}.nullSource must be calibrated or bound`);
    if ((c.nullSource === 'calibrated') !== (c.calibration !== undefined) || (c.calibration !== undefined && !count(c.calibration))) throw malformed(`${w}.calibration must be a ledger index exactly when the null is calibrated`);
  });
  if (v.tests !== v.clients.length) throw malformed(`${where}.tests must be the number of clients tested`);
  if (!prob(v.familyPValue)) throw malformed(`${where}.familyPValue must be a number in [0, 1]`);
  return v as unknown as GuardResult;
}

/** The guard-only form of verification.recorded (method "guard"). */
function readGuardVerification(p: O, where: string): GuardVerificationRecord {
  only(p, ['schema', 'suspect', 'method', 'ownerKey', 'guard', 'alpha', 'owned', 'backend'], where);
  readSuspect(p.suspect, `${where}.suspect`);
  if (typeof p.ownerKey !== 'string' || p.ownerKey.length > 500) throw malformed(`${where}.ownerKey is not a verifier key string`);
  readGuard(p.guard, `${where}.guard`);
  if (typeof p.alpha !== 'number' || !(p.alpha > 0 && p.alpha < 1)) throw malformed(`${where}.alpha must be in (0, 1)`);
  if (typeof p.owned !== 'boolean') throw malformed(`${where}.owned must be true or false`);
  if (p.backend !== undefined && (typeof p.backend !== 'string' || p.backend.length > 100)) throw malformed(`${where}.backend must be a short string`);
  return p as unknown as GuardVerificationRecord;
}

/** True for the guard-only form. */
export function isGuardVerification(r: VerificationRecord | GuardVerificationRecord): r is GuardVerificationRecord {
  return r.method === 'guard';
}

/** Reads either form: a mark verification (readVerificationRecord) or a guard-only one. */
export function readAnyVerificationRecord(payload: unknown, where = 'verification.recorded'): VerificationRecord | GuardVerificationRecord {
  const p = checkSchema(payload, VERIFICATION_RECORDED, VERIFICATION_SCHEMA, where) as O;
  return p.method === 'guard' ? readGuardVerification(p, where) : readVerificationRecord(p, where);
}

function readFingerprint(v: unknown, where: string): FingerprintResult {
  if (!isObj(v)) throw malformed(`${where} is not an object`);
  only(v, ['commitment', 'n', 'matches', 'classes', 'chanceRate', 'nullDistribution', 'calibration', 'pValue'], where);
  const c = v.commitment;
  if (!isObj(c) || Object.keys(c).sort().join() !== 'commitment,index' || !count(c.index) || typeof c.commitment !== 'string' || !HEX64.test(c.commitment)) throw malformed(`${where}.commitment must be { index, commitment: <64 hex> }`);
  if (!count(v.n) || (v.n as number) === 0 || !count(v.matches) || (v.matches as number) > (v.n as number)) throw malformed(`${where}: n and matches must be counts with matches <= n`);
  if (!count(v.classes) || (v.classes as number) < 2 || !count(v.calibration)) throw malformed(`${where}: classes must be at least 2 and calibration a ledger index`);
  if (!prob(v.chanceRate) || !prob(v.pValue)) throw malformed(`${where}: chanceRate and pValue must be numbers in [0, 1]`);
  if (!Array.isArray(v.nullDistribution) || v.nullDistribution.length === 0 || v.nullDistribution.length > MAX_NULL || !v.nullDistribution.every(prob)) throw malformed(`${where}.nullDistribution must be 1 to ${MAX_NULL} rates in [0, 1]`);
  return v as unknown as FingerprintResult;
}

/** Reads a verification.recorded payload; rejects unknown versions and every malformed field. */
export function readVerificationRecord(payload: unknown, where = 'verification.recorded'): VerificationRecord {
  const p = checkSchema(payload, VERIFICATION_RECORDED, VERIFICATION_SCHEMA, where) as O;
  if (p.method === 'guard') throw malformed(`${where} is a guard-mark verification (method "guard"), which has no marked model or watermark commitment`);
  only(p, ['schema', 'model', 'suspect', 'method', 'commitment', 'ownerKey', 'weight', 'trigger', 'fingerprint', 'alpha', 'owned', 'backend', 'family'], where);
  if (!isModelId(p.model)) throw malformed(`${where}.model is not a model id`);
  readSuspect(p.suspect, `${where}.suspect`);
  if (p.method !== 'white-box' && p.method !== 'black-box' && p.method !== 'both') throw malformed(`${where}.method must be white-box, black-box or both`);
  const c = p.commitment;
  if (!isObj(c) || Object.keys(c).sort().join() !== 'commitment,index' || !count(c.index) || typeof c.commitment !== 'string' || !HEX64.test(c.commitment)) throw malformed(`${where}.commitment must be { index, commitment: <64 hex> }`);
  if (typeof p.ownerKey !== 'string' || p.ownerKey.length > 500) throw malformed(`${where}.ownerKey is not a verifier key string`);
  if (p.weight !== undefined) readWeight(p.weight, `${where}.weight`);
  if (p.trigger !== undefined) readTrigger(p.trigger, `${where}.trigger`);
  if (p.fingerprint !== undefined) readFingerprint(p.fingerprint, `${where}.fingerprint`);
  if (p.weight === undefined && p.trigger === undefined && p.fingerprint === undefined) throw malformed(`${where} has neither weight, trigger nor fingerprint results`);
  if (typeof p.alpha !== 'number' || !(p.alpha > 0 && p.alpha < 1)) throw malformed(`${where}.alpha must be in (0, 1)`);
  if (typeof p.owned !== 'boolean') throw malformed(`${where}.owned must be true or false`);
  if (p.backend !== undefined && (typeof p.backend !== 'string' || p.backend.length > 100)) throw malformed(`${where}.backend must be a short string`);
  if (p.family !== undefined) {
    const f = p.family;
    const tests = (p.weight ? 1 : 0) + (p.trigger ? 1 : 0);
    if (!isObj(f) || Object.keys(f).sort().join() !== 'commitments,tests' || !count(f.commitments) || (f.commitments as number) < 1 || !count(f.tests) || (f.tests as number) < tests) throw malformed(`${where}.family must be { commitments >= 1, tests >= the tests recorded }`);
  }
  return p as unknown as VerificationRecord;
}

/**
 * Mark verifications (watermark.committed, marked model): what evidence export, dispute and
 * re-extraction read. A guard-only entry is RECORD_INVALID here ("a guard-mark verification"):
 * read those with guardVerificationRecorded (or anyVerificationRecorded).
 */
export const verificationRecorded: RecordType<VerificationRecord> = {
  type: VERIFICATION_RECORDED,
  schema: VERIFICATION_SCHEMA,
  writer: 'service',
  decode: (p) => readVerificationRecord(p),
};

/** The same entry type read in either form (the registry's entry: every valid entry decodes). */
export const anyVerificationRecorded: RecordType<VerificationRecord | GuardVerificationRecord> = {
  type: VERIFICATION_RECORDED,
  schema: VERIFICATION_SCHEMA,
  writer: 'service',
  decode: (p) => readAnyVerificationRecord(p),
};

/** Guard-only verifications (method "guard"), written by `verify --guard-client|--guard-all`. */
export const guardVerificationRecorded: RecordType<GuardVerificationRecord> = {
  type: VERIFICATION_RECORDED,
  schema: VERIFICATION_SCHEMA,
  writer: 'service',
  decode: (p) => {
    const r = readAnyVerificationRecord(p);
    if (!isGuardVerification(r)) throw malformed('verification.recorded is a mark verification, not a guard-mark one');
    return r;
  },
};
