// `hallmark serve` replicas as child processes over one home and one PostgreSQL database: used by
// the multi-replica test (test/postgres/replicas.slow.test.ts) and `npm run bench:api -- --replicas`.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** dist/cli/main.js, from the sources (vitest) or from dist/scripts. */
export const CLI = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? '../dist/cli/main.js' : '../cli/main.js', import.meta.url));

export interface Replica {
  readonly name: string;
  readonly url: string;
  readonly child: ChildProcess;
  /** Everything it wrote on stderr (its log). */
  readonly log: () => string;
  /** SIGKILL: no clean shutdown, no lease handed back. */
  kill9(): Promise<void>;
  /** SIGTERM: a clean shutdown. */
  stop(): Promise<void>;
}

export interface ReplicaOptions {
  readonly home: string;
  readonly database: string;
  readonly passphrase: string;
  readonly name: string;
  readonly args?: readonly string[];
}

export function startReplica(o: ReplicaOptions): Promise<Replica> {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--host', '127.0.0.1', '--home', o.home, '--database', o.database, '--replica-id', o.name, ...(o.args ?? [])], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, HALLMARK_PASSPHRASE: o.passphrase },
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (!m) return;
      resolve({
        name: o.name, url: m[1]!, child, log: () => err,
        async kill9() {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
          await exited;
        },
        async stop() {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          await exited;
        },
      });
    });
    child.once('exit', (code) => reject(new Error(`hallmark serve (${o.name}) exited with ${code}: ${err.split('\n').slice(-5).join(' | ')}`)));
  });
}

/** A new database on the server of `url` (for a deployment of its own); returns its URL. */
export async function createDatabase(url: string, name: string): Promise<string> {
  const pg = (await import('pg')).default;
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(`CREATE DATABASE ${name}`);
  } finally {
    await c.end();
  }
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}
