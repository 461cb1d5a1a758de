// Job kind `evidence.export`: decrypts the commitment opening of a verification's mark with the
// server's passphrase, writes evidence.json, report.pdf and VERIFY.md into the job's artifact
// folder (rendering the PDF takes a while, hence a worker), and records api.evidence-exported.
// The result names the files and their digests; the opening and the secret stay in the files.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { JsonObject } from '../../../ledger/index.js';
import { exportEvidence, isGuardVerificationAt, loadStoredOpening, revealGuardSets } from '../../evidence/index.js';
import { homeTrust, makePrivate, openHome } from '../../home/index.js';
import { apiEvidenceExported, appendRecord } from '../../records/index.js';
import { SecretError } from '../../secrets/index.js';
import { listTimestamps } from '../../tsa/index.js';
import { homeWitnessing } from '../../witness/index.js';
import { storeArtifactFolder, withJobBlobs } from '../blob-files.js';
import type { JobContext } from '../jobs.js';

export async function run(params: JsonObject, ctx: JobContext): Promise<JsonObject> {
  const verification = params.verification as number;
  if (!ctx.passphrase) throw new SecretError('SECRET_NO_PASSPHRASE', 'the server was started without HALLMARK_PASSPHRASE, so it cannot open watermark secrets');
  const home = openHome(ctx.homeDir, { passphrase: ctx.passphrase });
  try {
    ctx.progress({ phase: 'opening' });
    // issue 12: a guard-mark verification reveals the claimed client's set (the tested client with the smallest p) instead of an opening.
    const guard = isGuardVerificationAt(home.ledger, verification);
    const guardMarks = guard ? await revealGuardSets({ dir: home.paths.dir, ledger: home.ledger, trust: homeTrust(home) }, ctx.passphrase, verification) : undefined;
    const opening = guard ? undefined : await loadStoredOpening(home.ledger, home.paths.dir, verification, ctx.passphrase);
    ctx.progress({ phase: 'writing' });
    // Written in this job's private work folder, then sealed into the shared blob store (any
    // replica serves the downloads) before the record that names them is appended.
    const witnessing = homeWitnessing(home.paths.dir); // issue 15: the cosigned checkpoint and the policy
    let witnessedSize: number | undefined;
    const files = await withJobBlobs(ctx, async (blobs, work) => {
      const outDir = join(work, 'evidence');
      mkdirSync(outDir, { recursive: true, mode: 0o700 });
      const r = await exportEvidence({ ledger: home.ledger, verificationIndex: verification, ownerSignerKey: home.readOwnerSignerKey(), opening, ...(guardMarks ? { guardMarks } : {}), timestamps: listTimestamps(home.paths.dir), outDir, trust: homeTrust(home), actor: ctx.actor, ...(witnessing ? { witnessing } : {}) });
      makePrivate(outDir, { recursive: true }); // evidence.json reveals the watermark secret
      witnessedSize = r.witnessedSize;
      return (await storeArtifactFolder(blobs, 'evidence', ctx.jobId, outDir)).map((f) => ({ name: f.name, sha256: f.ref.sha256 }));
    });
    const e = appendRecord(home.ledger, apiEvidenceExported, { schema: apiEvidenceExported.schema, jobId: ctx.jobId, verification, files: Object.fromEntries(files.map((f) => [f.name, { sha256: f.sha256 }])) }, undefined, ctx.actor);
    return {
      verification, index: e.index, ownerVerifierKey: home.ownerVerifierKey, logVerifierKey: home.ledger.verifierKey,
      files: files.map((f) => ({ ...f, download: `/v1/evidence/${ctx.jobId}/files/${f.name}` })),
      ...(witnessedSize !== undefined ? { witnessedSize } : {}),
    };
  } finally {
    home.close();
  }
}
