// hallmark ledger timestamp --tsa URL [--ca FILE]: an RFC 3161 token over the current checkpoint.
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { openHome, resolveHomeDir } from '../../src/home/index.js';
import { readCertificates, stampCheckpoint } from '../../src/tsa/index.js';
import { action, emit } from '../output.js';

export function registerTimestamp(program: Command): void {
  const ledger = program.commands.find((c) => c.name() === 'ledger');
  if (!ledger) throw new Error('registerTimestamp must run after registerLedger');
  ledger
    .command('timestamp')
    .description('obtain an RFC 3161 time-stamp token over the current signed checkpoint and store it in the home folder')
    .requiredOption('--tsa <url>', 'the time-stamping authority (HTTP, application/timestamp-query)')
    .option('--ca <file>', "CA certificate(s), PEM or DER, to check the TSA's certificate chain against")
    .option('--home <dir>', 'home folder (default: $HALLMARK_HOME, else ./.hallmark)')
    .option('--json', 'print JSON')
    .action(action(async (opts: { tsa: string; ca?: string; home?: string; json?: boolean }) => {
      const caCerts = opts.ca ? readCertificates(readFileSync(opts.ca), opts.ca) : undefined;
      const home = openHome(resolveHomeDir(opts.home));
      try {
        const r = await stampCheckpoint(home.ledger, home.paths.dir, opts.tsa, caCerts ? { caCerts } : {});
        emit(opts, { size: r.size, genTime: r.info.genTime.toISOString(), serialNumber: r.info.serialNumber, tsa: r.info.signer, chainVerified: r.info.chainVerified, token: r.files.token, response: r.files.response, checkpointFile: r.files.checkpoint, checkpoint: r.checkpoint }, () =>
          [`checkpoint of size ${r.size} stamped at ${r.info.genTime.toISOString()} by ${r.info.signer} (serial ${r.info.serialNumber})`,
            `chain to CA: ${r.info.chainVerified ? 'verified' : 'not checked (pass --ca)'}`, `token: ${r.files.token}`, `response: ${r.files.response}`,
            `check it with openssl: openssl ts -verify -in ${r.files.response} -data ${r.files.checkpoint} -CAfile TSA-CA.pem`].join('\n'));
      } finally {
        home.close();
      }
    }));
}
