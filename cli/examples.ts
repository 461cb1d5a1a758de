// One or two real examples for every command's --help, kept in one table so that a new command
// cannot ship without them (test/cli/conventions.test.ts walks the whole command tree).
import type { Command } from 'commander';

export const EXAMPLES: Record<string, readonly string[]> = {
  'init': ['hallmark init', 'hallmark init --home /srv/hallmark'],
  'ledger': ['hallmark ledger verify', 'hallmark ledger prove --index 12 --json'],
  'ledger append': ['echo \'{"text":"release 1.2 approved"}\' | hallmark ledger append --type note.added --payload -'],
  'ledger show': ['hallmark ledger show 12', 'hallmark ledger show 12 --json | jq .entry.payload'],
  'ledger checkpoint': ['hallmark ledger checkpoint'],
  'ledger prove': ['hallmark ledger prove --index 12', 'hallmark ledger prove --index 12 --size 40 --json > proof.json'],
  'ledger consistency': ['hallmark ledger consistency --from 10', 'hallmark ledger consistency --from 10 --to 40 --json'],
  'ledger verify': ['hallmark ledger verify', 'hallmark ledger verify --json | jq .ok'],
  'ledger pubkey': ['hallmark ledger pubkey > log.pub'],
  'ledger timestamp': ['hallmark ledger timestamp --tsa http://timestamp.example/tsr --ca tsa-ca.pem'],
  'ledger export-tiles': ['hallmark ledger export-tiles ./public/log   # then serve ./public/log from any static host'],
  'ledger publish': ['hallmark ledger publish   # submits the checkpoint to the witnesses in <home>/tlog-policy'],
  'ledger proof': ['hallmark ledger proof --index 12 --out entry-12.tlog-proof'],
  'ledger verify-proof': ['hallmark ledger verify-proof entry-12.tlog-proof --policy tlog-policy'],
  'dataset': ['hallmark dataset register mnist --name mnist'],
  'dataset register': ['hallmark dataset register mnist --name mnist', 'hallmark dataset register ./photos --name photos-v2'],
  'model': ['hallmark model inspect model.onnx', 'hallmark model register model.onnx --name detector'],
  'model register': ['hallmark model register model.onnx --name detector', 'hallmark model register tuned.onnx --derived-from model:sha256:4f2a... --dataset dataset:sha256:9c1e... --operation fine-tune'],
  'model inspect': ['hallmark model inspect model.onnx', 'hallmark model inspect ./tfjs-model/ --json | jq .digest'],
  'model convert': ['hallmark model convert ./tfjs-model/ --to onnx --out model.onnx', 'hallmark model convert model.onnx --to tfjs --out ./tfjs-model/'],
  'model sign': ['hallmark model sign ./model --signature model.sig --key signing-key.pem'],
  'model verify-signature': ['hallmark model verify-signature ./model --signature model.sig --public-key signing-key.pub.pem', 'hallmark model verify-signature ./model --signature model.sig --public-key signing-key.pub.pem --log'],
  'fingerprint': ['hallmark fingerprint ./marked/ --dataset mnist --surrogates 3 --references 3 --n 100'],
  'witness': ['hallmark witness init ./witness --name witness.example.com/w1', 'hallmark witness serve ./witness --port 8790'],
  'witness init': ['hallmark witness init ./witness --name witness.example.com/w1'],
  'witness serve': ['hallmark witness serve ./witness --port 8790'],
  'guard': ['hallmark guard --model model.onnx --port 8788', 'hallmark guard --upstream http://triton:8000/v2/models/digits --protocol oip-v2 --on-suspect throttle'],
  'lineage': ['hallmark lineage marked.onnx', 'hallmark lineage model:sha256:4f2a... --json'],
  'embed': ['hallmark embed ./tfjs-model/ --out ./marked/ --dataset mnist', 'hallmark embed model.onnx --out marked.onnx --training-free', 'hallmark embed ./mobilenet/ --out ./marked/ --dataset ./photos --pixel-range -1,1', 'hallmark embed vad.onnx --out marked.onnx --training-free --input-dims input=1,512 --input-value sr=16000 --input-signal input=audio'],
  'verify': ['hallmark verify suspect.onnx', 'hallmark verify --endpoint https://api.example/v2/models/digits --protocol oip-v2'],
  'calibrate': ['hallmark calibrate --models 5', 'hallmark calibrate --models 10 --epochs 2 --json'],
  'attack': ['hallmark attack prune marked.onnx --out pruned.onnx', 'hallmark attack distill ./marked/ --out ./student/'],
  'provenance': ['hallmark provenance model:sha256:4f2a... --out provenance.json', 'hallmark provenance verify provenance.json --pubkey log.pub'],
  'provenance verify': ['hallmark provenance verify provenance.json --pubkey log.pub'],
  'evidence': ['hallmark evidence export --verification 7 --out evidence/', 'hallmark evidence verify evidence/ --suspect suspect.onnx'],
  'evidence export': ['hallmark evidence export --verification 7 --out evidence/', 'hallmark evidence export --verification 9 --out dispute/ --reveal-fingerprint', 'hallmark evidence export --verification 12 --out extracted/ --guard-client 3f9a0c1d2e4b'],
  'evidence verify': ['hallmark evidence verify evidence/', 'hallmark evidence verify evidence/ --suspect suspect.onnx --tsa-ca tsa-ca.pem', 'hallmark evidence verify evidence/ --policy tlog-policy'],
  'dispute': ['hallmark dispute evidence-alice/ evidence-bob/ --models alice-input.onnx,bob-input.onnx'],
  'home': ['hallmark home encrypt-keys --home ./old-home'],
  'home encrypt-keys': ['HALLMARK_PASSPHRASE=... hallmark home encrypt-keys --home ./old-home'],
  'keys': ['hallmark keys create --role engineer --name ci', 'hallmark keys list'],
  'keys create': ['hallmark keys create --role engineer --name ci', 'hallmark keys create --role legal --name legal-team --json'],
  'keys list': ['hallmark keys list', 'hallmark keys list --json'],
  'keys revoke': ['hallmark keys revoke 3f9c2a'],
  'serve': ['HALLMARK_PASSPHRASE=... hallmark serve --port 8787', 'hallmark serve --host 0.0.0.0 --port 8787 --endpoint-hosts models.internal'],
  'demo': ['npx hallmark demo', 'hallmark demo --home ./demo-home'],
  'version': ['hallmark version', 'hallmark version --json | jq -r .commit'],
  'completion': ['eval "$(hallmark completion bash)"', 'hallmark completion fish > ~/.config/fish/completions/hallmark.fish'],
};

/** The space-separated path of a command below the program: "ledger append". */
export function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c && c.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** Adds the examples of every command in the tree that has some (once). */
export function addExamples(program: Command): void {
  const visit = (cmd: Command) => {
    for (const sub of cmd.commands) {
      const ex = EXAMPLES[commandPath(sub)];
      if (ex) sub.addHelpText('after', `\nExamples:\n${ex.map((e) => `  ${e}`).join('\n')}`);
      visit(sub);
    }
  };
  visit(program);
}
