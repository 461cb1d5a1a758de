// Job kind `evidence.export`: decrypts the commitment opening of a verification's mark with the
// server's passphrase, writes evidence.json, report.pdf and VERIFY.md into the job's artifact
// folder (rendering the PDF takes a while, hence a worker), and records api.evidence-exported.
// The result names the files and their digests; the opening and the secret stay in the files.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { JsonObject } from '../../../ledger/index.js';
import { exportEvidence, loadStoredOpening } from '../../evidence/index.js';
import { homeTrust, makePrivate, openHome } from '../../home/index.js';
import { apiEvidenceExported, appendRecord } from '../../records/index.js';
import { SecretError } from '../../secrets/index.js';
import { listTimestamps } from '../../tsa/index.js';
import { homeWitnessing } from '../../witness/index.js';
import { ensureArtifactDir } from '../artifacts.js';
import type { JobContext } from '../jobs.js';

export async function run(params: JsonObject, ctx: JobContext): Promise<JsonObject> {
  const verification = params.verification as number;
  if (!ctx.passphrase) throw new SecretError('SECRET_NO_PASSPHRASE', 'the server was started without HALLMARK_PASSPHRASE, so it cannot open watermark secrets');
  const home = openHome(ctx.homeDir, { passphrase: ctx.passphrase });
  try {
    ctx.progress({ phase: 'opening' });
    const opening = await loadStoredOpening(home.ledger, home.paths.dir, verification, ctx.passphrase);
    ctx.progress({ phase: 'writing' });
    const outDir = ensureArtifactDir(ctx.homeDir, 'evidence', ctx.jobId);
    const witnessing = homeWitnessing(home.paths.dir); // issue 15: the cosigned checkpoint and the policy
    const r = await exportEvidence({ ledger: home.ledger, verificationIndex: verification, ownerSignerKey: home.readOwnerSignerKey(), opening, timestamps: listTimestamps(home.paths.dir), outDir, trust: homeTrust(home), actor: ctx.actor, ...(witnessing ? { witnessing } : {}) });
    makePrivate(outDir, { recursive: true }); // evidence.json reveals the watermark secret
    const files = r.files.map((f) => ({ name: basename(f), sha256: createHash('sha256').update(readFileSync(f)).digest('hex') }));
    const e = appendRecord(home.ledger, apiEvidenceExported, { schema: apiEvidenceExported.schema, jobId: ctx.jobId, verification, files: Object.fromEntries(files.map((f) => [f.name, { sha256: f.sha256 }])) }, undefined, ctx.actor);
    return {
      verification, index: e.index, ownerVerifierKey: home.ownerVerifierKey, logVerifierKey: home.ledger.verifierKey,
      files: files.map((f) => ({ ...f, download: `/v1/evidence/${ctx.jobId}/files/${f.name}` })),
      ...(r.witnessedSize !== undefined ? { witnessedSize: r.witnessedSize } : {}),
    };
  } finally {
    home.close();
  }
}
