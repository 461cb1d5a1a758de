// THE writer of guard-mark verifications: a verification.recorded entry in its guard form
// (method "guard", src/records/types/verification-recorded.ts), signed like every verification
// (the owner's key or a service key), so `verify --guard-client|--guard-all` leaves the same kind
// of signed, dated trace as a mark verification.
import { basename, resolve } from 'node:path';
import type { Ledger, StoredEntry } from '../../ledger/index.js';
import { detectModelFormat, digestModel, MEDIA_TYPES } from '../formats/index.js';
import { appendRecord, guardVerificationRecorded, VERIFICATION_SCHEMA, type GuardVerificationRecord, type RecordSigner } from '../records/index.js';
import { redactUrl, type RemoteProtocol } from '../verify/index.js';
import type { GuardVerification } from './verify-guard.js';

export type GuardSuspect = { readonly path: string } | { readonly url: string; readonly protocol: RemoteProtocol };

export async function guardVerificationPayload(v: GuardVerification, suspect: GuardSuspect, ownerKey: string, backend?: string): Promise<GuardVerificationRecord> {
  let s: GuardVerificationRecord['suspect'];
  if ('path' in suspect) {
    const d = await detectModelFormat(suspect.path);
    s = { kind: 'file', descriptor: { name: basename(resolve(suspect.path)).slice(0, 200) || 'model', digest: { sha256: (await digestModel(suspect.path)).sha256 }, mediaType: MEDIA_TYPES[d.format] } };
  } else {
    s = { kind: 'endpoint', url: redactUrl(suspect.url), protocol: suspect.protocol };
  }
  return {
    schema: VERIFICATION_SCHEMA, suspect: s, method: 'guard', ownerKey,
    guard: {
      clients: v.results.map((r) => ({
        client: r.client, commitment: { index: r.commitment.index, root: r.commitment.root, count: r.commitment.count },
        n: r.n, matches: r.matches, classes: r.classes, chanceRate: r.chance, nullSource: r.nullSource,
        ...(r.calibrationIndex !== undefined ? { calibration: r.calibrationIndex } : {}), pValue: r.pValue,
      })),
      tests: v.tests, familyPValue: Math.min(1, v.familyPValue),
    },
    alpha: v.alpha, owned: v.owned, ...(backend ? { backend: backend.slice(0, 100) } : {}),
  };
}

export function appendGuardVerification(ledger: Ledger, payload: GuardVerificationRecord, signer: RecordSigner, actor = 'hallmark-verify'): StoredEntry {
  return appendRecord(ledger, guardVerificationRecorded, payload, signer, actor);
}
