// VERIFY.md: how a third party checks an evidence folder, with commands and what each check means.
export function renderVerifyMd(o: { logKey: string; ownerKey: string; suspect?: string; witnessed?: boolean }): string {
  const suspect = o.suspect ?? 'SUSPECT_FILE';
  const policy = o.witnessed ? ' [--policy tlog-policy]' : '';
  return `# Verifying this ownership evidence

This folder holds three files:

- \`evidence.json\`: the evidence itself, a DSSE envelope (https://github.com/secure-systems-lab/dsse)
  around an in-toto Statement v1 whose predicate type is \`https://hallmark.dev/evidence/ownership/v1\`,
  signed with the owner's Ed25519 key.
- \`report.pdf\`: a reading aid for people who are not engineers. It proves nothing by itself.
- \`VERIFY.md\`: this file.

The statement inside \`evidence.json\` records the SHA-256 of \`report.pdf\` and of \`VERIFY.md\`,
so changing any byte of any of the three files is detected.

## What you need

- The owner's public key and the ledger's public key, **obtained independently of this folder**
  (from the owner's website, a court filing, a key published earlier). The keys this folder was made with are:
  - owner: \`${o.ownerKey}\`
  - ledger (log): \`${o.logKey}\`
- Optionally the suspect file (\`${suspect}\`), to re-run the watermark extraction yourself.
- Optionally the CA certificate of the time-stamping authority, to check RFC 3161 timestamps.
- The \`hallmark\` command (\`npm install\`, \`npx tsc -p .\`, then \`node dist/cli/main.js\`).

## One command

\`\`\`sh
hallmark evidence verify . \\
  --owner-key '${o.ownerKey}' \\
  --pubkey '${o.logKey}' \\
  [--tsa-ca tsa-ca.pem] [--suspect ${suspect}]${policy}
\`\`\`

It prints every check it made and exits 0 only if all of them pass; any failure exits 1 and names
the check. Without \`--owner-key\` and \`--pubkey\` it uses the keys named inside the bundle, and says so:
that proves the bundle is internally consistent, not who made it.

## The checks, one by one

1. **The files are the ones signed.** \`evidence.json\` must be exactly as written (JSON indented by two
   spaces, canonical base64). SHA-256 of \`report.pdf\` and \`VERIFY.md\` must equal \`predicate.files\`.
   By hand: \`sha256sum report.pdf VERIFY.md\`.
2. **The owner signed the statement.** The DSSE signature (Ed25519 over
   \`PAE(payloadType, payload)\` = \`"DSSEv1" SP len(type) SP type SP len(body) SP body\`) verifies with
   the owner's key. The statement body is RFC 8785 canonical JSON. To read it:
   \`jq -r .payload evidence.json | base64 -d | jq .\`
3. **The ledger checkpoints are genuine.** \`predicate.checkpoint\` (the ledger now) and
   \`predicate.commitmentCheckpoint\` (the ledger when the commitment was sealed) are C2SP signed notes
   (https://c2sp.org/tlog-checkpoint) signed by the ledger key.
4. **The ledger was only appended to.** \`predicate.consistency\` is an RFC 6962/9162 consistency proof
   that the commitment-time tree is a prefix of the current tree: nothing recorded then was changed later.
5. **Every entry is in the ledger.** Each of \`predicate.entries\` is the exact bytes of a ledger entry
   with an RFC 6962 inclusion proof (leaf = SHA-256(0x00 || bytes)) to the current checkpoint's root.
   Consecutive entries must chain (\`prev\` = the previous entry's leaf hash).
6. **The commitment predates the suspect.** The \`watermark.committed\` entry is covered by the
   commitment-time checkpoint, whose size is at most the index of the \`verification.recorded\` entry:
   the watermark secret was fixed before the suspect was examined.
7. **The revealed secret is the committed one.** \`predicate.commitment.opening\` reveals the scheme,
   parameters, salt and the watermark root. SHA-256 of the canonical JSON
   \`{type: "hallmark.watermark-commitment", version: 1, scheme, parameters, secretDigest, salt}\`, where
   \`secretDigest\` is SHA-256 of the canonical JSON of the root document, equals the commitment in the
   ledger entry. The root is an Ed25519 signature by the owner over the model id: it verifies with the
   owner's key, so only the owner could have produced it, and every watermark value (projection,
   trigger set, bits) derives from it.
8. **The marked model descends from the committed model.** Registrations and \`lineage.derived\`
   entries link the model named in the verification to the model the commitment was made for.
9. **The verification record.** The \`verification.recorded\` entry names the suspect's SHA-256, the
   method, every count and p-value, the threshold alpha and the decision. The statement's subject
   repeats the suspect's digest. It and the \`watermark.committed\` entry carry a \`signature\`
   (Ed25519 by the owner's key, or for the verification a service key listed in
   \`predicate.serviceKeys\`) over \`"hallmark/record-signature/v1\\n"\` followed by the RFC 8785 JSON of
   \`{ type, actor, payload without signature }\`. Without the suspect file, these numbers are
   that signed record, not a re-check; step 11 re-checks them.
10. **Timestamps (when present).** Each RFC 3161 token stamps the exact bytes of a signed checkpoint
    of this ledger; its signature, the TSA certificate and (with \`--tsa-ca\`) its chain are checked,
    and a consistency proof links that checkpoint to the current one. By hand, after extracting the
    checkpoint note and token: \`openssl ts -verify -data checkpoint.note -in token.tsr -token_in -CAfile tsa-ca.pem\`.
11. **The suspect (with \`--suspect\`).** Its model digest must equal the recorded one: SHA-256 over the
    canonical JSON of \`[{path, sha256}]\` for the file and any files it names (TF.js weight shards,
    ONNX external data), so keep the file name as recorded. The watermark keys are then derived from
    the revealed root (checked against the owner's key) and the extraction is re-run with the same
    code: the weight mark over the same candidate tensors (every 2-D/4-D tensor whose input features
    fit, in each layout), and the trigger set queried again through onnxruntime-node or TF.js for
    ONNX and TF.js files. Counts (bits, matches, candidates, the tensor, n) and the decision must equal
    the record exactly; BER, chance rate and p-values must agree to a relative 1e-9. Each number is
    printed beside its recorded value; any difference fails with \`EVIDENCE_MISMATCH\` naming it.
${o.witnessed ? WITNESSED : ''}
## What the numbers mean

A p-value is the probability that a model which was never marked would match at least as well by
luck. For the weight watermark, each of T bits matches by a fair coin toss, so the p-value is
P[X >= matches] for X ~ Binomial(T, 1/2). For the trigger set, an unmarked model agrees with our
secret labels at a chance rate (measured on independently trained models when calibrated), and the
p-value is the binomial tail at that rate. Ownership is claimed only when the p-value is below alpha,
a threshold fixed before the test.
`;
}

const WITNESSED = `12. **Witnesses saw this ledger (\`predicate.witnessed\`).** \`witnessed.checkpoint\` is a checkpoint the
    ledger published with the cosignatures of independent witnesses (https://c2sp.org/tlog-cosignature:
    Ed25519 over \`"cosignature/v1\\ntime <T>\\n"\` and the checkpoint body), and \`witnessed.policy\` is the
    tlog-policy (https://c2sp.org/tlog-policy) naming the witnesses' keys and the quorum. Each
    cosignature from a listed key must verify, the quorum must be met, and \`witnessed.consistency\` must
    prove the current tree extends the witnessed one, so every entry below its size was in the one tree
    the witnesses saw (no fork shown only to you). The policy in the bundle is signed by the owner with
    the rest; to rely on the witnesses rather than on the owner's word, pass \`--policy\` with a policy
    obtained independently (from the witnesses' operators): the witnessed checkpoint must then satisfy it
    and cover the commitment entry.
`;
