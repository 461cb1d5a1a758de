// `hallmark witness`: run a C2SP tlog-witness for other logs (add-checkpoint, cosignature/v1).
import { serve } from '@hono/node-server';
import type { Command } from 'commander';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { NoteVerifier } from '../../ledger/index.js';
import { stopListening } from '../../src/api/stop-listening.js';
import { generateCosignerKey, newCosigner, parsePolicy, WitnessState, witnessApp, encodeCosignatureVkey, WitnessError } from '../../src/witness/index.js';
import { action, emit, parseCount } from '../output.js';

const paths = (dir: string) => ({ key: join(dir, 'witness.key'), state: join(dir, 'state.json'), logs: join(dir, 'logs.policy') });

export function registerWitness(program: Command): void {
  const w = program.command('witness').description('a transparency-log witness (C2SP tlog-witness) that cosigns other logs\' checkpoints');

  w.command('init <dir>')
    .description('make a witness folder: an Ed25519 cosignature key, an empty state, and logs.policy listing the logs to witness')
    .requiredOption('--name <name>', 'the witness name, e.g. witness.example.com/w1')
    .option('--json', 'print JSON')
    .action(action((dir: string, opts: { name: string; json?: boolean }) => {
      const p = paths(dir);
      if (existsSync(p.key)) throw new WitnessError('WITNESS_BAD_KEY', `${p.key} already exists; refusing to replace a witness key`);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const k = generateCosignerKey(opts.name);
      writeFileSync(p.key, `${k.signerKey}\n`, { mode: 0o600, flag: 'wx' });
      chmodSync(p.key, 0o600);
      if (!existsSync(p.logs)) writeFileSync(p.logs, '# the logs this witness cosigns: one "log <vkey>" line each\nquorum none\n');
      emit(opts, { dir, vkey: k.vkey }, () => `witness ${opts.name} created in ${dir}\nvkey: ${k.vkey}\nadd "log <vkey>" lines to ${p.logs}, then run: hallmark witness serve ${dir}`);
    }));

  w.command('serve <dir>')
    .description('serve POST /add-checkpoint and GET /<origin hash>/checkpoint')
    .option('--port <port>', 'TCP port (0: any free port)', '8790')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .action(action(async (dir: string, opts: { port: string; host: string }) => {
      const p = paths(dir);
      if (!existsSync(p.key)) throw new WitnessError('WITNESS_BAD_KEY', `no witness key at ${p.key}; run "hallmark witness init ${dir} --name ..." first`);
      const port = parseCount('--port', opts.port)!;
      const cosigner = newCosigner(readFileSync(p.key, 'utf8'));
      const policy = parsePolicy(existsSync(p.logs) ? readFileSync(p.logs, 'utf8') : 'quorum none\n');
      const logs = new Map<string, NoteVerifier[]>();
      for (const l of policy.logs) logs.set(l.verifier.name, [...(logs.get(l.verifier.name) ?? []), l.verifier]);
      const state = new WitnessState(p.state);
      const app = witnessApp({
        cosigner, logs, state,
        onRefused: (origin, reason) => process.stderr.write(`hallmark witness: refused ${origin}: ${reason}\n`),
      });
      const server = serve({ fetch: app.fetch, port, hostname: opts.host }, (info: AddressInfo) => {
        process.stdout.write(`hallmark witness ${cosigner.name} listening on http://${info.address}:${info.port} (${logs.size} logs)\nvkey: ${encodeCosignatureVkey(cosigner.name, cosigner.publicKey)}\n`);
      });
      // tlog-witness: clients SHOULD keep connections alive; outlive their idle pools.
      (server as { keepAliveTimeout?: number }).keepAliveTimeout = 65_000;
      // In-flight requests finish; a client that stalls is cut after CLOSE_GRACE_MS (10 s).
      const stop = () => void stopListening(server).then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    }));
}
