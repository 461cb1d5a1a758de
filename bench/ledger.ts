// npm run bench:ledger [-- --entries 1000000 --json out.json]
// Appends (batched and single durable), proof latency at N entries, checkpoint sign/verify,
// full audit time and bytes on disk per entry. Prints a table; --json writes the figures.
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateNoteKey, newVerifier, openCheckpoint, openLedger, type EntryInput } from '../ledger/index.js';
import { flag, machine, now, printTable, summarize, writeJson, type Row } from './util.js';

const N = Number(flag('entries', '1000000'));
const BATCH = 1000;
const dir = mkdtempSync(join(tmpdir(), 'hm-bench-ledger-'));
const key = generateNoteKey('bench.example/log');

// A realistic entry: about the size of a model.registered record.
const entry = (i: number): EntryInput => ({
  type: 'model.registered',
  actor: 'bench',
  payload: {
    schema: 'hallmark/model.registered/v1',
    subject: { name: `model-${i}`, digest: { sha256: (i * 2654435761 >>> 0).toString(16).padStart(64, '0') }, mediaType: 'application/vnd.tfjs.layers+json' },
  },
});

function fileBytes(path: string): number {
  let total = 0;
  for (const p of [path, `${path}-wal`, `${path}-shm`]) {
    try {
      total += statSync(p).size;
    } catch {
      /* absent */
    }
  }
  return total;
}

const out: Record<string, unknown> = { entries: N, machine: machine() };
const rows: Row[] = [];
const dbPath = join(dir, 'ledger.db');

// 1. Batched appends of 1,000 until N entries (durable: synchronous=FULL, one transaction per batch).
{
  const l = openLedger(dbPath, { signerKey: key.signerKey, create: true });
  const t0 = now();
  for (let i = 0; i < N; i += BATCH) {
    l.appendBatch(Array.from({ length: Math.min(BATCH, N - i) }, (_, k) => entry(i + k)));
    if ((i / BATCH) % 100 === 0) process.stderr.write(`\rbatched appends: ${i}/${N}`);
  }
  const s = (now() - t0) / 1000;
  process.stderr.write('\n');
  out.batchedAppendsPerSec = N / s;
  rows.push({ metric: 'appends/s, batches of 1,000', value: (N / s).toFixed(0), target: '>= 50,000', met: N / s >= 50_000 });
  l.checkpoint();
  l.close();
  const db = new Database(dbPath);
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  out.bytesPerEntry = fileBytes(dbPath) / N;
  rows.push({ metric: 'bytes on disk per entry', value: (fileBytes(dbPath) / N).toFixed(0) });
}

// 2. Single durable appends: one transaction and one fsync each, on the N-entry ledger.
for (const sync of ['FULL', 'NORMAL'] as const) {
  const l = openLedger(dbPath, { signerKey: key.signerKey, synchronous: sync });
  const count = 3000;
  const t0 = now();
  for (let i = 0; i < count; i++) l.append(entry(N + i));
  const rate = count / ((now() - t0) / 1000);
  out[`singleAppendsPerSec${sync}`] = rate;
  rows.push(
    sync === 'FULL'
      ? { metric: 'single durable appends/s (synchronous=FULL)', value: rate.toFixed(0), target: '>= 1,500', met: rate >= 1500 }
      : { metric: 'single appends/s (synchronous=NORMAL, not power-safe)', value: rate.toFixed(0) },
  );
  l.close();
}

// 3. Proofs at N entries: random indices, tree size N.
{
  const l = openLedger(dbPath, { signerKey: key.signerKey });
  const size = N;
  const samples = 5000;
  const incl: number[] = [];
  const cons: number[] = [];
  let seed = 12345;
  const rnd = (m: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % m);
  for (let i = 0; i < 200; i++) l.inclusionProof(rnd(size), size); // warm up
  for (let i = 0; i < samples; i++) {
    const t0 = now();
    l.inclusionProof(rnd(size), size);
    incl.push(now() - t0);
  }
  for (let i = 0; i < samples; i++) {
    const from = 1 + rnd(size - 1);
    const t0 = now();
    l.consistencyProof(from, size);
    cons.push(now() - t0);
  }
  const si = summarize(incl);
  const sc = summarize(cons);
  out.inclusionProofMs = si;
  out.consistencyProofMs = sc;
  rows.push({ metric: `inclusion proof at ${N.toLocaleString('en')}: median / p99 ms`, value: `${si.median.toFixed(3)} / ${si.p99.toFixed(3)}`, target: '< 1 ms median', met: si.median < 1 });
  rows.push({ metric: `consistency proof at ${N.toLocaleString('en')}: median / p99 ms`, value: `${sc.median.toFixed(3)} / ${sc.p99.toFixed(3)}`, target: '< 1 ms median', met: sc.median < 1 });

  // 4. Checkpoint sign (with the consistency check against the last one) and verify.
  const sign: number[] = [];
  const verify: number[] = [];
  const v = newVerifier(l.verifierKey);
  for (let i = 0; i < 200; i++) {
    l.append(entry(i));
    const t0 = now();
    const cp = l.checkpoint();
    sign.push(now() - t0);
    const t1 = now();
    openCheckpoint(cp.note, v, l.origin);
    verify.push(now() - t1);
  }
  const ss = summarize(sign);
  const sv = summarize(verify);
  out.checkpointSignMs = ss;
  out.checkpointVerifyMs = sv;
  rows.push({ metric: 'checkpoint sign (incl. consistency check): median / p99 ms', value: `${ss.median.toFixed(3)} / ${ss.p99.toFixed(3)}` });
  rows.push({ metric: 'checkpoint verify: median / p99 ms', value: `${sv.median.toFixed(3)} / ${sv.p99.toFixed(3)}` });

  // 5. Full audit.
  const t0 = now();
  const report = await l.audit();
  const auditS = (now() - t0) / 1000;
  if (!report.ok) throw new Error(`audit failed: ${report.problems[0]?.message}`);
  out.auditSeconds = auditS;
  out.auditedEntries = report.size;
  rows.push({ metric: `full audit of ${report.size.toLocaleString('en')} entries, s`, value: auditS.toFixed(1), target: '< 30 s', met: auditS < 30 });
  l.close();
}

printTable(`hallmark bench:ledger (${N.toLocaleString('en')} entries, node ${process.version})`, rows);
writeJson(out);
rmSync(dir, { recursive: true, force: true });
