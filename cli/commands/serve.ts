import type { Command } from 'commander';
import { listen, openApi } from '../../src/api/server.js';
import { DATABASE_ENV, HomeError, resolveHomeDir } from '../../src/home/index.js';
import { PASSPHRASE_ENV } from '../../src/secrets/index.js';
import { action, parseCount } from '../output.js';
import { BLOB_KEY_FILE_ENV, BLOBS_ENV } from '../../src/blobs/index.js';
import { blobsReady } from '../../src/api/blob-files.js';

interface Opts {
  home?: string;
  port: string;
  host: string;
  maxUploadMb?: string;
  uploadsPerMinute?: string;
  endpointHosts?: string;
  checkpointInterval?: string;
  database?: string;
  jobLease?: string;
  replicaId?: string;
  blobs?: string;
  blobKeyFile?: string;
}

export function registerServe(program: Command): void {
  program.command('serve').description('serve the HTTP API (see /docs and /openapi.json) and the web console (/console)')
    .option('--home <dir>', 'home folder (default: $HALLMARK_HOME, else ./.hallmark)')
    .option('--port <port>', 'TCP port (0: any free port)', '8787')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--max-upload-mb <n>', 'largest model or dataset upload, in MiB')
    .option('--uploads-per-minute <n>', 'uploads per API key per minute')
    .option('--database <url>', 'the PostgreSQL ledger (postgres://...; default: $HALLMARK_DATABASE_URL)')
    .option('--job-lease <seconds>', 'PostgreSQL: a running job is taken over by another replica when its replica has not renewed its lease for this long', '30')
    .option('--replica-id <name>', 'PostgreSQL: this replica\'s name in the job queue (default: host-pid-random)')
    .option('--blobs <store>', 'where uploads and job outputs are kept: local (<home>/blobs) or postgres (default: postgres with --database, else local)')
    .option('--blob-key-file <path>', 'encrypt stored files under this key file (64 hex digits) instead of the passphrase (default: $HALLMARK_BLOB_KEY_FILE)')
    .option('--endpoint-hosts <list>', 'comma-separated host[:port] list that verification endpoint URLs may name (default: any http/https host)')
    .option('--checkpoint-interval <seconds>', 'sign a checkpoint this often when the log grew (0: only after writes)', '30')
    .action(action(async (opts: Opts) => {
      // Jobs (worker threads and processes) open the home themselves: hand them the URL by environment.
      if (opts.database) process.env[DATABASE_ENV] = opts.database;
      if (opts.blobs) process.env[BLOBS_ENV] = opts.blobs;
      if (opts.blobKeyFile) process.env[BLOB_KEY_FILE_ENV] = opts.blobKeyFile;
      const port = parseCount('--port', opts.port)!;
      if (port > 65535) throw new RangeError(`--port must be at most 65535, got ${port}`);
      const maxMb = parseCount('--max-upload-mb', opts.maxUploadMb);
      const perMinute = parseCount('--uploads-per-minute', opts.uploadsPerMinute);
      const interval = parseCount('--checkpoint-interval', opts.checkpointInterval ?? '30')!;
      const lease = parseCount('--job-lease', opts.jobLease ?? '30')!;
      if (lease < 1) throw new RangeError('--job-lease must be at least 1 second');
      if (opts.replicaId !== undefined && !/^[\x21-\x7e]{1,100}$/.test(opts.replicaId)) throw new RangeError('--replica-id must be 1-100 printable ASCII characters without spaces');
      const endpointHosts = opts.endpointHosts?.split(',').map((h) => h.trim().toLowerCase()).filter((h) => h.length > 0);
      // HALLMARK_PASSPHRASE is read once, by openApi; only whether it is set is printed.
      const api = openApi(resolveHomeDir(opts.home), {
        ...(endpointHosts ? { endpointHosts } : {}),
        checkpoints: { intervalMs: interval * 1000 },
        jobs: { leaseMs: lease * 1000, ...(opts.replicaId ? { replica: opts.replicaId } : {}) },
        limits: { ...(maxMb !== undefined ? { uploadBytes: maxMb * 1024 * 1024 } : {}), ...(perMinute !== undefined ? { uploadsPerWindow: perMinute, windowMs: 60_000 } : {}) },
      });
      if (!api.home.keysEncrypted) {
        await api.close();
        throw new HomeError('HOME_KEYS_PLAINTEXT', 'owner.key and log.key of this home are not encrypted; run "hallmark home encrypt-keys" first (a server holds keys that sign for you)');
      }
      // The blob store opens (and migrates, on PostgreSQL) and checks its key before the port opens.
      await blobsReady(resolveHomeDir(opts.home)).catch(async (err: unknown) => { await api.close(); throw err; });
      const server = await listen(api.app, { port, host: opts.host });
      process.stdout.write(`hallmark API listening on ${server.url} (docs: ${server.url}/docs, console: ${server.url}/console)\n`);
      if (!process.env[PASSPHRASE_ENV]) process.stdout.write(`note: ${PASSPHRASE_ENV} is not set: embed, verify, calibrate and evidence requests will answer 503\n`);
      const stop = () => {
        void server.close().then(() => api.close()).then(() => process.exit(0));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    }));
}
