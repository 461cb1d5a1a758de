// npm run bench:formats [-- --size-mb 1024 --onnx-mb 100 --reps 3 --json out.json]
// Hashing throughput on a 1 GiB file (created in os.tmpdir(), deleted at the end) against `sha256sum` on the same file in the same run
// (plain streamed SHA-256, and the sha256-sharded-v1 digest with two worker threads), peak RSS
// while hashing (measured in a child process), and the time to read the tensors of a 100 MB ONNX
// file. Each timing is the best of --reps runs, alternating the contenders, to damp noise from
// other processes on the machine.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { digestFile } from '../src/formats/digest.js';
import { digestFileSharded } from '../src/formats/digest-sharded.js';
import { readOnnxTensors } from '../src/formats/onnx.js';
import { onnx } from '../src/formats/onnx-tensor.js';
import { flag, machine, now, printTable, writeJson, type Row } from './util.js';

const MiB = 1024 * 1024;
const SIZE = Number(flag('size-mb', '1024')) * MiB;
const ONNX_BYTES = Number(flag('onnx-mb', '100')) * 1_000_000;
const REPS = Number(flag('reps', '3'));
const dir = mkdtempSync(join(tmpdir(), 'hm-bench-formats-'));
const here = fileURLToPath(new URL('.', import.meta.url));
const digestModule = pathToFileURL(resolve(here, '../src/formats/digest.js')).href;
const shardedModule = pathToFileURL(resolve(here, '../src/formats/digest-sharded.js')).href;

function makeBigFile(path: string): void {
  const chunk = randomBytes(64 * MiB);
  const fd = openSync(path, 'w');
  try {
    for (let written = 0; written < SIZE; ) {
      const n = Math.min(chunk.length, SIZE - written);
      writeSync(fd, chunk, 0, n);
      written += n;
    }
  } finally {
    closeSync(fd);
  }
}

async function time(fn: () => Promise<unknown> | unknown): Promise<number> {
  const t0 = now();
  await fn();
  return (now() - t0) / 1000;
}

/** Peak RSS (MiB) of a fresh node process that only hashes the file. */
function peakRss(mode: 'plain' | 'sharded', path: string): number {
  const code = mode === 'plain'
    ? `const m = await import(${JSON.stringify(digestModule)}); await m.digestFile(${JSON.stringify(path)});`
    : `const m = await import(${JSON.stringify(shardedModule)}); await m.digestFileSharded(${JSON.stringify(path)}, { workers: 2 });`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', `${code} console.log(process.resourceUsage().maxRSS);`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`child failed: ${r.stderr}`);
  return Number(r.stdout.trim()) / 1024;
}

function makeOnnx(path: string): number {
  const n = Math.floor(ONNX_BYTES / 4);
  const cols = 1000;
  const rows = Math.floor(n / cols);
  const w = new Float32Array(rows * cols);
  for (let i = 0; i < w.length; i++) w[i] = Math.sin(i);
  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'big',
      node: [{ opType: 'MatMul', input: ['X', 'W'], output: ['Y'] }],
      initializer: [{ name: 'W', dims: [rows, cols], dataType: 1, rawData: new Uint8Array(w.buffer) }],
      input: [{ name: 'X', type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 1 }, { dimValue: rows }] } } } }],
      output: [{ name: 'Y', type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 1 }, { dimValue: cols }] } } } }],
    },
  });
  const bytes = onnx.ModelProto.encode(model).finish();
  writeFileSync(path, bytes);
  return bytes.byteLength;
}

const rows: Row[] = [];
const out: Record<string, unknown> = { machine: { ...machine(), cpus: cpus().length, loadavgAtStart: loadavg() }, fileBytes: SIZE, reps: REPS };
try {
  const big = join(dir, 'big.bin');
  process.stderr.write(`writing ${SIZE / MiB} MiB test file...\n`);
  makeBigFile(big);
  execFileSync('sha256sum', [big]); // warm the page cache so every contender reads from memory

  const best = { sha256sum: Infinity, plain: Infinity, sharded: Infinity };
  let sums: string[] = [];
  for (let r = 0; r < REPS; r++) {
    process.stderr.write(`round ${r + 1}/${REPS}\n`);
    best.sha256sum = Math.min(best.sha256sum, await time(() => (sums = [execFileSync('sha256sum', [big], { encoding: 'utf8' }).split(' ')[0]!])));
    let plain = '';
    best.plain = Math.min(best.plain, await time(async () => (plain = (await digestFile(big)).sha256)));
    if (plain !== sums[0]) throw new Error(`digestFile disagrees with sha256sum: ${plain} vs ${sums[0]}`);
    best.sharded = Math.min(best.sharded, await time(() => digestFileSharded(big, { workers: 2 })));
  }
  const mbps = (s: number) => SIZE / MiB / s;
  const ratioPlain = best.sha256sum / best.plain;
  const ratioSharded = best.sha256sum / best.sharded;
  out.seconds = best;
  out.mibPerSec = { sha256sum: mbps(best.sha256sum), plain: mbps(best.plain), sharded: mbps(best.sharded) };
  out.ratioPlain = ratioPlain;
  out.ratioSharded = ratioSharded;
  rows.push({ metric: 'sha256sum, MiB/s', value: mbps(best.sha256sum).toFixed(0) });
  rows.push({ metric: 'digestFile (streamed SHA-256), MiB/s', value: mbps(best.plain).toFixed(0) });
  rows.push({ metric: 'digestFile / sha256sum', value: ratioPlain.toFixed(2), target: '>= 0.9', met: ratioPlain >= 0.9 });
  rows.push({ metric: 'sha256-sharded-v1, 2 workers, MiB/s', value: mbps(best.sharded).toFixed(0) });
  rows.push({ metric: 'sharded / sha256sum', value: ratioSharded.toFixed(2), target: '>= 1.6', met: ratioSharded >= 1.6 });

  process.stderr.write('peak RSS in child processes...\n');
  const rssPlain = peakRss('plain', big);
  const rssSharded = peakRss('sharded', big);
  out.peakRssMiB = { plain: rssPlain, sharded: rssSharded };
  rows.push({ metric: `peak RSS hashing ${SIZE / MiB} MiB (plain), MiB`, value: rssPlain.toFixed(0), target: '< 200', met: rssPlain < 200 });
  rows.push({ metric: `peak RSS hashing ${SIZE / MiB} MiB (sharded), MiB`, value: rssSharded.toFixed(0), target: '< 200', met: rssSharded < 200 });
  rmSync(big);

  const onnxPath = join(dir, 'big.onnx');
  process.stderr.write('writing the ONNX model...\n');
  const onnxBytes = makeOnnx(onnxPath);
  let onnxBest = Infinity;
  for (let r = 0; r < REPS; r++) onnxBest = Math.min(onnxBest, await time(() => readOnnxTensors(onnxPath)));
  out.onnx = { bytes: onnxBytes, readSeconds: onnxBest };
  rows.push({ metric: `read tensors of a ${(onnxBytes / 1e6).toFixed(0)} MB ONNX file, ms`, value: (onnxBest * 1000).toFixed(0) });
  out.loadavgAtEnd = loadavg();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
printTable(`formats (${SIZE / MiB} MiB file, best of ${REPS}, load average at start ${(out.machine as { loadavgAtStart: number[] }).loadavgAtStart.map((x) => x.toFixed(1)).join(' ')})`, rows);
writeJson(out);
