// npm run bench:api [-- --entries 10000 --duration 10 --connections 50 --json out.json]
// Starts `hallmark serve` on loopback in a child process (so the load generator does not share
// its event loop) over a ledger of N entries, and drives public reads with autocannon:
// checkpoint, inclusion proofs at random indices, consistency proofs, single entries.
// Prints requests/s and p50/p99 latency; --json writes the figures.
//
// npm run bench:api -- --replicas 1|3 [--database postgres://...]: PostgreSQL (a throw-away
// embedded cluster unless --database), N `hallmark serve` replicas over one database, the same
// reads (a mix of checkpoint, inclusion and consistency proofs, entries) spread round-robin by
// the client over the replicas; with 3 it measures 1 and 3 replicas in --rounds (default 3)
// interleaved pairs and prints the median ratio (target >= 2x) with the load averages.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openHome, initHome } from '../src/home/index.js';
import { cpus, loadavg } from 'node:os';
import { startPostgres } from '../scripts/embedded-postgres.js';
import { createDatabase, startReplica, type Replica } from '../scripts/serve-replicas.js';
import { flag, machine, printTable, writeJson, type Row } from './util.js';

interface Histogram { average: number; p50: number; p99: number }
interface CannonResult { requests: Histogram & { total: number }; latency: Histogram; non2xx: number; errors: number; timeouts: number; duration: number }
interface CannonRequest { method?: string; path?: string }
type Cannon = (opts: {
  url: string; connections: number; duration: number; pipelining?: number;
  requests?: { setupRequest?: (req: CannonRequest) => CannonRequest }[];
}) => Promise<CannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Cannon;

const N = Number(flag('entries', '10000'));
const DURATION = Number(flag('duration', '10'));
const CONNECTIONS = Number(flag('connections', '50'));
const ROUNDS = Number(flag('rounds', '3'));
const median = (xs: number[]) => { const v = [...xs].sort((a, b) => a - b); return v.length % 2 ? v[(v.length - 1) / 2]! : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2; };
const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', 'cli', 'main.js');

function fill(home: string): void {
  initHome(home, { passphrase: BENCH_PASSPHRASE });
  const h = openHome(home, { passphrase: BENCH_PASSPHRASE });
  for (let i = 0; i < N; i += 1000) {
    h.ledger.appendBatch(Array.from({ length: Math.min(1000, N - i) }, (_, k) => ({
      type: 'model.registered', actor: 'bench',
      payload: { schema: 'hallmark/bench/v1', n: i + k, digest: ((i + k) * 2654435761 >>> 0).toString(16).padStart(64, '0') },
    })));
  }
  h.ledger.checkpoint();
  h.close();
}

function startServer(home: string): Promise<{ url: string; stop(): Promise<void> }> {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--host', '127.0.0.1', '--home', home], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, HALLMARK_PASSPHRASE: BENCH_PASSPHRASE } });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve({ url: m[1]!, stop: () => new Promise((r) => { child.once('exit', () => r()); child.kill('SIGTERM'); }) });
    });
    child.once('exit', (code) => reject(new Error(`hallmark serve exited with ${code}`)));
  });
}

const BENCH_PASSPHRASE = 'bench api passphrase';
const rand = (n: number) => Math.floor(Math.random() * n);

const SCENARIOS: { name: string; path: () => string }[] = [
  { name: 'GET /v1/ledger/checkpoint', path: () => '/v1/ledger/checkpoint' },
  { name: 'GET /v1/ledger/proof/inclusion', path: () => `/v1/ledger/proof/inclusion?index=${rand(N)}` },
  { name: 'GET /v1/ledger/proof/consistency', path: () => `/v1/ledger/proof/consistency?from=${1 + rand(N - 1)}` },
  { name: 'GET /v1/ledger/entries/{i}', path: () => `/v1/ledger/entries/${rand(N)}` },
];

async function main(): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), 'hm-bench-api-'));
  process.stderr.write(`filling a ledger with ${N} entries...\n`);
  fill(home);
  const server = await startServer(home);
  const out: Record<string, unknown> = { entries: N, durationSec: DURATION, connections: CONNECTIONS, machine: machine(), scenarios: {} };
  const rows: Row[] = [];
  try {
    for (const s of SCENARIOS) {
      process.stderr.write(`${s.name}: ${DURATION} s with ${CONNECTIONS} connections...\n`);
      const r = await autocannon({ url: server.url, connections: CONNECTIONS, duration: DURATION, requests: [{ setupRequest: (req) => ({ ...req, method: 'GET', path: s.path() }) }] });
      const failed = r.non2xx + r.errors + r.timeouts;
      (out.scenarios as Record<string, unknown>)[s.name] = { requestsPerSec: r.requests.average, latencyP50Ms: r.latency.p50, latencyP99Ms: r.latency.p99, total: r.requests.total, failed };
      rows.push({ metric: `${s.name} req/s`, value: r.requests.average.toFixed(0), ...(failed ? { target: `${failed} failed`, met: false } : {}) });
      rows.push({ metric: `${s.name} p50 / p99 ms`, value: `${r.latency.p50} / ${r.latency.p99}` });
    }
  } finally {
    await server.stop();
    rmSync(home, { recursive: true, force: true });
  }
  printTable(`hallmark serve on loopback: ${N} entries, ${CONNECTIONS} connections, ${DURATION} s per route`, rows);
  writeJson(out);
}

/** Every replica gets CONNECTIONS / n of the connections (client-side round robin), all at once. */
async function readMix(replicas: readonly Replica[]): Promise<{ rps: number; p50: number; p99: number; failed: number }> {
  let turn = 0;
  const mix = () => SCENARIOS[turn++ % SCENARIOS.length]!.path();
  const per = Math.max(1, Math.round(CONNECTIONS / replicas.length));
  const results = await Promise.all(replicas.map((r) => autocannon({ url: r.url, connections: per, duration: DURATION, requests: [{ setupRequest: (req) => ({ ...req, method: 'GET', path: mix() }) }] })));
  const rps = results.reduce((a, r) => a + r.requests.average, 0);
  return { rps, p50: Math.max(...results.map((r) => r.latency.p50)), p99: Math.max(...results.map((r) => r.latency.p99)), failed: results.reduce((a, r) => a + r.non2xx + r.errors + r.timeouts, 0) };
}

async function replicasMain(n: number): Promise<void> {
  if (n !== 1 && n !== 3) throw new RangeError('--replicas must be 1 or 3');
  const given = flag('database');
  const cluster = given ? undefined : await startPostgres();
  const home = mkdtempSync(join(tmpdir(), 'hm-bench-api-'));
  const replicas: Replica[] = [];
  const rows: Row[] = [];
  const out: Record<string, unknown> = { entries: N, durationSec: DURATION, connections: CONNECTIONS, machine: machine(), store: 'postgres', runs: {} };
  try {
    const db = await createDatabase(given ?? cluster!.url, `hm_bench_api_${process.pid}`);
    process.stderr.write(`filling a PostgreSQL ledger with ${N} entries...\n`);
    initHome(home, { passphrase: BENCH_PASSPHRASE, database: db });
    const h = openHome(home, { passphrase: BENCH_PASSPHRASE, database: db });
    for (let i = 0; i < N; i += 1000) h.ledger.appendBatch(Array.from({ length: Math.min(1000, N - i) }, (_, k) => ({ type: 'note.added', actor: 'bench', payload: { n: i + k } })));
    h.ledger.checkpoint();
    h.close();
    const start = async (k: number) => { while (replicas.length < k) replicas.push(await startReplica({ home, database: db, passphrase: BENCH_PASSPHRASE, name: `bench-${replicas.length}` })); };
    await start(n);
    // Interleaved pairs (1 then 3, then 3 then 1, ...) so a change in the machine's load hits both.
    const ks = n === 3 ? [1, 3] : [1];
    const runs: Record<number, { rps: number; p50: number; p99: number; failed: number; load: number }[]> = { 1: [], 3: [] };
    for (let round = 0; round < ROUNDS; round++) {
      for (const k of round % 2 === 0 ? ks : [...ks].reverse()) {
        process.stderr.write(`round ${round + 1}/${ROUNDS}, ${k} replica(s): ${DURATION} s, ${CONNECTIONS} connections, mixed reads...\n`);
        const r = await readMix(replicas.slice(0, k));
        runs[k]!.push({ ...r, load: loadavg()[0]! });
      }
    }
    out.runs = runs;
    for (const k of ks) {
      const rs = runs[k]!;
      const failed = rs.reduce((a, r) => a + r.failed, 0);
      rows.push({ metric: `${k} replica(s): reads/s, median of ${rs.length} (each)`, value: `${median(rs.map((r) => r.rps)).toFixed(0)} (${rs.map((r) => r.rps.toFixed(0)).join(', ')})`, ...(failed ? { target: `${failed} failed`, met: false } : {}) });
      rows.push({ metric: `${k} replica(s): p50 / p99 ms (worst replica), median`, value: `${median(rs.map((r) => r.p50))} / ${median(rs.map((r) => r.p99))}` });
    }
    if (n === 3) {
      const ratios = runs[3]!.map((r, i) => r.rps / runs[1]![i]!.rps);
      out.ratios = ratios;
      out.ratio = median(ratios);
      rows.push({ metric: `3 replicas / 1 replica, median of ${ROUNDS} interleaved pairs (each)`, value: `${median(ratios).toFixed(2)}x (${ratios.map((x) => x.toFixed(2)).join(', ')})`, target: '>= 2x', met: median(ratios) >= 2 });
    }
    rows.push({ metric: 'load average (1 min) after each run', value: [...runs[1]!, ...runs[3]!].map((r) => r.load.toFixed(2)).join(' ') });
  } finally {
    for (const r of replicas) await r.stop();
    await cluster?.destroy();
    rmSync(home, { recursive: true, force: true });
  }
  printTable(`hallmark serve replicas on PostgreSQL: ${N} entries, ${CONNECTIONS} connections spread round-robin, ${DURATION} s each, ${cpus().length} CPUs`, rows);
  process.stdout.write('(3 replicas can only outrun one when the machine has cores to spare: each replica, PostgreSQL and this load generator compete for them; read the load average.)\n');
  writeJson(out);
}

const replicaCount = flag('replicas');
if (replicaCount !== undefined) await replicasMain(Number(replicaCount));
else await main();
