// npm run bench:api [-- --entries 10000 --duration 10 --connections 50 --json out.json]
// Starts `hallmark serve` on loopback in a child process (so the load generator does not share
// its event loop) over a ledger of N entries, and drives public reads with autocannon:
// checkpoint, inclusion proofs at random indices, consistency proofs, single entries.
// Prints requests/s and p50/p99 latency; --json writes the figures.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openHome, initHome } from '../src/home/index.js';
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

await main();
