// npm run bench:guard [-- --seconds 10 --rounds 3 --connections 4 --batch 1 --stream repeat|distinct --monitor thread|inline --runner thread|inline --model mnist|mobilenet --json out.json]
// What the guard costs: autocannon on loopback against (a) a bare server that parses the same
// OIP v2 request and calls onnxruntime-node directly, and (b) `startGuard` over the same ONNX
// model (auth, validation, keyed mark decision, monitor, metrics). Reports p50/p99 latency,
// requests/s, the p50 overhead and the throughput ratio, plus the same comparison in process
// (no sockets, no autocannon competing for the CPU: the same requests through each app's fetch,
// interleaved so both see the same load) and the cost of the guard's per-input work (mark
// decision + monitor). On a loaded machine the in-process ratio is the figure to read.
//
// --stream repeat (the default) cycles 200 test digits: after the first 200 every query is an
// exact repeat, which the monitor counts but does not test, so its cost stays near zero.
// --stream distinct sends up to 40,000 distinct natural inputs (MNIST's t10k digits, then copies
// shifted by 1-2 pixels): the monitor's sets fill to 1,000 per class and every query pays the
// nearest-neighbour scan, as for a client that never repeats itself.
// --monitor thread (the guard's default) runs that monitor on a worker thread; inline runs it on
// the request thread, as the guard did before (query-monitor.ts).
// --runner auto|worker|inline is where the ONNX model runs (the guard's --model-thread; default
// auto: a worker thread for a model call of 2 ms or more, so MobileNetV2 there and the fixture
// inline), in the direct server and in the guard alike, so the overhead is the guard's own work.
// --model mnist (the default) is the fixture, a 0.05 ms model: the guard's fixed cost per request
// weighs as much as the model. --model mobilenet serves a real MobileNetV2 classifier (nsfwjs's,
// fixtures/real/nsfwjs-mobilenet-v2, converted to ONNX) on 224x224x3 crops of real photos
// (face-api's demo samples): 300 distinct inputs, so within a round every query is new.
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openApiDb } from '../src/api/api-db.js';
import { openKeyStore } from '../src/api/keys.js';
import { convertTfjsToOnnx } from '../src/formats/convert-tfjs-to-onnx.js';
import { loadMnist } from '../src/formats/mnist.js';
import { loadMnistT10k } from '../src/formats/mnist-idx.js';
import { naturalQueries } from '../src/attacks/index.js';
import { decideMark, deriveClientKey, ExtractionMonitor, openLocalRunner, quantiseInput, type ModelPlacement, startGuard } from '../src/guard/index.js';
import { initHome } from '../src/home/index.js';
import { decodeImage, resizeBilinear } from '../src/images/index.js';
import { flag, machine, printTable, summarize, writeJson } from './util.js';

const REPO = resolve(fileURLToPath(import.meta.url), '../../..');
const seconds = Number(flag('seconds', '10'));
const connections = Number(flag('connections', '4'));
const batch = Number(flag('batch', '1'));
const require = createRequire(import.meta.url);
const autocannon = require('autocannon') as (o: Record<string, unknown>) => Promise<{ latency: { p50: number; p99: number; average: number }; requests: { average: number }; non2xx: number; errors: number }>;

const mnist = await loadMnist({ seed: 0 });
const modelKind = flag('model', 'mnist') ?? 'mnist';
if (modelKind !== 'mnist' && modelKind !== 'mobilenet') throw new RangeError('--model must be mnist or mobilenet');
const work = mkdtempSync(join(tmpdir(), 'hallmark-bench-guard-'));
const onnx = join(work, 'model.onnx');
writeFileSync(onnx, await convertTfjsToOnnx(join(REPO, 'fixtures', modelKind === 'mnist' ? 'mnist-cnn' : 'real/nsfwjs-mobilenet-v2')));

/** count 224x224x3 crops of the six real photos (each resized to 256x256, then cropped at a moving offset). */
function photoCrops(count: number): Float32Array {
  const photos = [1, 2, 3, 4, 5, 6].map((k) => {
    const rgba = decodeImage(readFileSync(join(REPO, `fixtures/real/faceapi-samples/sample${k}.jpg`)), 'jpeg', `sample${k}.jpg`);
    const rgb = new Float32Array(rgba.width * rgba.height * 3);
    for (let i = 0; i < rgba.width * rgba.height; i++) for (let c = 0; c < 3; c++) rgb[i * 3 + c] = rgba.data[i * 4 + c]! / 255;
    return resizeBilinear(rgb, rgba.height, rgba.width, 3, 256, 256);
  });
  const out = new Float32Array(count * 224 * 224 * 3);
  for (let i = 0; i < count; i++) {
    const src = photos[i % 6]!;
    const dy = Math.floor(i / 6) % 32;
    const dx = (Math.floor(i / 6) * 7) % 32;
    for (let y = 0; y < 224; y++) out.set(src.subarray(((y + dy) * 256 + dx) * 3, ((y + dy) * 256 + dx + 224) * 3), (i * 224 + y) * 224 * 3);
  }
  return out;
}

// (a) direct: the same request shape, straight to onnxruntime, placed as the guard places it.
const runnerWhere = (flag('runner', 'auto') ?? 'auto') as ModelPlacement;
if (!['auto', 'worker', 'inline'].includes(runnerWhere)) throw new RangeError('--runner must be auto, worker or inline');
const runner = await openLocalRunner(onnx, { placement: runnerWhere });
const placed = (r: { description: string }) => (r.description.includes('(worker thread') ? 'worker thread' : 'request thread');
const app = new Hono();
app.post('/v2/models/mnist/infer', async (c) => {
  const body = (await c.req.json()) as { inputs: { shape: number[]; data: number[] }[] };
  const n = body.inputs[0]!.shape[0]!;
  const y = await runner.run(Float32Array.from(body.inputs[0]!.data), n);
  return c.json({ model_name: 'mnist', outputs: [{ name: runner.outputName, datatype: 'FP32', shape: [n, runner.classes], data: Array.from(y) }] });
});
const direct = await new Promise<ReturnType<typeof serve>>((r) => {
  const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => r(s));
});
const directUrl = `http://127.0.0.1:${(direct.address() as AddressInfo).port}`;

// (b) the guard.
const dir = join(work, 'home');
initHome(dir);
const db = openApiDb(dir);
const client = openKeyStore(db).create({ role: 'client', name: 'bench' });
db.close();
const monitorWhere = flag('monitor', 'thread') ?? 'thread';
if (monitorWhere !== 'thread' && monitorWhere !== 'inline') throw new RangeError('--monitor must be thread or inline');
const guard = await startGuard({ homeDir: dir, passphrase: 'bench', model: onnx, modelName: 'mnist', port: 0, rateLimit: { perSecond: 1e9, burst: 1e9 }, log: () => undefined, monitorInline: monitorWhere === 'inline', modelPlacement: runnerWhere });

const stream = flag('stream', 'repeat') ?? 'repeat';
if (stream !== 'repeat' && stream !== 'distinct') throw new RangeError('--stream must be repeat or distinct');
if (modelKind === 'mobilenet' && stream === 'distinct') throw new RangeError('--model mobilenet has one stream: 300 distinct photo crops (leave out --stream)');
const dims = guard.runner.dims;
const size = dims.reduce((u, v) => u * v, 1);
const distinctInputs = 40_000;
const pool = modelKind === 'mobilenet' ? photoCrops(300 * batch) : stream === 'distinct' ? naturalQueries((await loadMnistT10k()).images, 10_000, distinctInputs) : mnist.test.images;
const bodyCount = modelKind === 'mobilenet' ? 300 : stream === 'distinct' ? Math.floor(distinctInputs / batch) : 200;
// Photo pixels are sent to 4 decimals (a 224x224x3 body is about 1 MB of JSON either way).
const wire = (v: number) => (modelKind === 'mobilenet' ? Math.round(v * 1e4) / 1e4 : v);
const bodies = Array.from({ length: bodyCount }, (_, i) => JSON.stringify({ inputs: [{ name: guard.runner.inputName, shape: [batch, ...dims], datatype: 'FP32', data: Array.from(pool.subarray(i * batch * size, (i + 1) * batch * size), wire) }] }));
const run = async (url: string, auth: boolean) => {
  let k = 0;
  return autocannon({
    url: `${url}/v2/models/mnist/infer`, method: 'POST', connections, duration: seconds,
    headers: { 'content-type': 'application/json', ...(auth ? { authorization: `Bearer ${client.secret}` } : {}) },
    requests: [{ setupRequest: (req: Record<string, unknown>) => ({ ...req, body: bodies[k++ % bodies.length] }) }],
  });
};
await run(directUrl, false); // warm-up (JIT, onnxruntime arenas)
await run(guard.url, true);
// Interleaved rounds (direct, guard, direct, guard, ...) so both see the same load; the ratio is
// the median of the per-round ratios, and the round with that ratio gives the latencies shown.
const rounds = Math.max(1, Number(flag('rounds', '3')));
const pairs: { a: Awaited<ReturnType<typeof run>>; b: Awaited<ReturnType<typeof run>>; ratio: number }[] = [];
for (let r = 0; r < rounds; r++) {
  const da = await run(directUrl, false);
  const gb = await run(guard.url, true);
  pairs.push({ a: da, b: gb, ratio: gb.requests.average / da.requests.average });
}
const ratios = pairs.map((p) => p.ratio).sort((x, y) => x - y);
const { a, b } = pairs.find((p) => p.ratio === ratios[Math.floor((ratios.length - 1) / 2)])!;

// In process, interleaved: direct app, then the guard's, for the same body each round. The
// requests carry Content-Length, as autocannon's and any client's with a body of known size do (the
// guard checks it up front and reads the body on @hono/node-server's fast path); a third request
// per round, to the guard without it (a chunked upload), measures the counting path.
const inProcess = Number(flag('in-process', modelKind === 'mnist' ? '2000' : '200'));
const dTimes: number[] = [];
const gTimes: number[] = [];
const cTimes: number[] = [];
const req = (url: string, body: string, auth: boolean, length = true) => new Request(url, { method: 'POST', body, headers: { 'content-type': 'application/json', ...(length ? { 'content-length': String(Buffer.byteLength(body)) } : {}), ...(auth ? { authorization: `Bearer ${client.secret}` } : {}) } });
const timed = async (times: number[], r: () => Promise<Response>) => {
  const t = performance.now();
  const res = await r();
  if (res.status !== 200) throw new Error(`answered ${res.status} in process`);
  await res.arrayBuffer();
  times.push(performance.now() - t);
};
for (let i = 0; i < inProcess; i++) {
  const body = bodies[i % bodies.length]!;
  await timed(dTimes, async () => app.fetch(req('http://direct/v2/models/mnist/infer', body, false)));
  await timed(gTimes, async () => guard.fetch(req('http://guard/v2/models/mnist/infer', body, true)));
  await timed(cTimes, async () => guard.fetch(req('http://guard/v2/models/mnist/infer', body, true, false)));
}
const mean = (x: number[]) => x.reduce((u, v) => u + v, 0) / x.length;
const warm = Math.floor(inProcess / 5); // the first fifth warms up both paths
const dIn = { ...summarize(dTimes.slice(warm)), mean: mean(dTimes.slice(warm)) };
const gIn = { ...summarize(gTimes.slice(warm)), mean: mean(gTimes.slice(warm)) };
const cIn = { ...summarize(cTimes.slice(warm)), mean: mean(cTimes.slice(warm)) };
await guard.close();
direct.close();
await runner.close();

// In-process: the guard's per-input work alone.
const key = deriveClientKey(new Uint8Array(32).fill(1), 'bench');
const monitor = new ExtractionMonitor();
const times: number[] = [];
const microInputs = modelKind === 'mnist' ? 2000 : 300;
for (let i = 0; i < microInputs; i++) {
  const x = (modelKind === 'mnist' ? mnist.test.images : pool).subarray(i * size, (i + 1) * size);
  const label = modelKind === 'mnist' ? mnist.test.labels[i]! : i % guard.runner.classes;
  const t = performance.now();
  decideMark(key, quantiseInput(x, dims), label, guard.runner.classes);
  monitor.observe('c', x, dims, label);
  times.push(performance.now() - t);
}
const perInput = summarize(times.slice(microInputs / 2));
const overhead = b.latency.p50 - a.latency.p50;
const ratio = ratios[Math.floor((ratios.length - 1) / 2)]!;
const overheadIn = gIn.median - dIn.median;
// Serial throughput is 1 / mean time per request.
const ratioIn = dIn.mean / gIn.mean;
printTable(`bench:guard (${modelKind === 'mnist' ? 'the MNIST fixture' : 'a real MobileNetV2, 224x224x3'}; autocannon, ${connections} connections, ${rounds} interleaved rounds of ${seconds} s each, batch ${batch}, ${modelKind === 'mnist' ? `${stream} stream` : '300 photo crops'}, monitor ${monitorWhere === 'thread' ? 'on a worker thread' : 'inline'}, model on the ${placed(runner)} (direct) and ${placed(guard.runner)} (guard) (--runner ${runnerWhere}); load average ${loadavg().map((l) => l.toFixed(2)).join(' ')})`, [
  { metric: 'direct onnxruntime p50 / p99 (ms)', value: `${a.latency.p50} / ${a.latency.p99}` },
  { metric: 'guard p50 / p99 (ms)', value: `${b.latency.p50} / ${b.latency.p99}` },
  { metric: 'direct requests/s', value: a.requests.average.toFixed(0) },
  { metric: 'guard requests/s', value: b.requests.average.toFixed(0) },
  // autocannon's percentiles are whole milliseconds: 0 against 1 says only "under about 1 ms".
  { metric: 'p50 overhead (ms; autocannon percentiles are whole ms)', value: overhead.toFixed(2), target: '< 1', met: overhead < 1 },
  { metric: 'mean latency direct / guard, and the difference (ms)', value: `${a.latency.average.toFixed(3)} / ${b.latency.average.toFixed(3)} (+${(b.latency.average - a.latency.average).toFixed(3)})` },
  { metric: `throughput vs direct (median of ${rounds} rounds: ${ratios.map((x) => `${(x * 100).toFixed(1)}%`).join(', ')})`, value: `${(ratio * 100).toFixed(1)}%`, target: '>= 80%', met: ratio >= 0.8 },
  { metric: `in process (${inProcess} requests each, interleaved): direct p50 / p99 (ms)`, value: `${dIn.median.toFixed(3)} / ${dIn.p99.toFixed(3)}` },
  { metric: 'in process: guard p50 / p99 (ms)', value: `${gIn.median.toFixed(3)} / ${gIn.p99.toFixed(3)}` },
  { metric: 'in process: p50 overhead (ms)', value: overheadIn.toFixed(3), target: '< 1', met: overheadIn < 1 },
  { metric: 'in process: throughput vs direct (mean time ratio)', value: `${(ratioIn * 100).toFixed(1)}%`, target: '>= 80%', met: ratioIn >= 0.8 },
  { metric: 'in process, chunked body (no Content-Length): guard mean time ratio', value: `${((dIn.mean / cIn.mean) * 100).toFixed(1)}%` },
  { metric: 'per-input mark + monitor (ms, median / p99, in-process)', value: `${perInput.median.toFixed(3)} / ${perInput.p99.toFixed(3)}` },
  { metric: 'non-2xx / errors (guard)', value: `${b.non2xx} / ${b.errors}` },
]);
writeJson({ machine: machine(), loadavg: loadavg(), model: modelKind, seconds, rounds, connections, batch, stream: modelKind === 'mnist' ? stream : 'photos', monitor: monitorWhere, runner: runnerWhere, placement: { direct: placed(runner), guard: placed(guard.runner) }, direct: a, guard: b, overheadMs: overhead, throughputRatio: ratio, roundRatios: ratios, inProcess: { requests: inProcess, direct: dIn, guard: gIn, guardChunked: cIn, overheadMs: overheadIn, throughputRatio: ratioIn }, perInputMs: perInput });
