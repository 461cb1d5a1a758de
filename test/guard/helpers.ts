// A guard over a fresh home and the fixture model converted to ONNX, wired as `startGuard` wires
// it but driven through app.request(); the runner counts the model calls so that tests can show
// a bad request never reached the model.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openApiDb } from '../../src/api/api-db.js';
import { openKeyStore, type KeyStore } from '../../src/api/keys.js';
import { convertTfjsToOnnx } from '../../src/formats/convert-tfjs-to-onnx.js';
import { createGuardApp, directLedgerWriter, enrolGuardSigner, ExtractionMonitor, GuardMetrics, inlineMonitor, GuardService, MarkJournal, openGuardKeys, openOnnxRunner, openOnnxThreadRunner, RateLimiter, readCommitments, readJournal, type GuardKeys, type GuardLimits, type LedgerWriter, type ModelRunner, type MonitorOptions, type RateLimitOptions } from '../../src/guard/index.js';
import type { SuspectAction } from '../../src/guard/record-extraction-suspected.js';
import { homeTrust, initHome, openHome, type Home } from '../../src/home/index.js';
import type { TrustedKeys } from '../../src/records/index.js';

export const PASS = 'guard test passphrase';
export const FAST_KDF = { N: 2 ** 12, r: 8, p: 1 };
const FIXTURE = 'fixtures/mnist-cnn';

let onnxPath: string | undefined;
export async function fixtureOnnx(): Promise<string> {
  if (!onnxPath) {
    const dir = mkdtempSync(join(tmpdir(), 'hallmark-guard-onnx-'));
    onnxPath = join(dir, 'fixture.onnx');
    writeFileSync(onnxPath, await convertTfjsToOnnx(FIXTURE));
  }
  return onnxPath;
}

export interface TestGuard {
  readonly dir: string;
  readonly home: Home;
  /** The keys the home trusts (owner + config.json serviceKeys, the guard's included). */
  readonly trust: TrustedKeys;
  readonly keys: KeyStore;
  readonly guardKeys: GuardKeys;
  readonly service: GuardService;
  readonly app: ReturnType<typeof createGuardApp>;
  readonly metrics: GuardMetrics;
  readonly logs: string[];
  readonly runner: ModelRunner & { calls: number };
  client(name: string): { id: string; secret: string };
  close(): Promise<void>;
}

export interface TestGuardOptions {
  markRate?: number;
  maxAltered?: number;
  clock?: () => number;
  onSuspect?: SuspectAction;
  monitor?: MonitorOptions;
  rateLimit?: RateLimitOptions;
  limits?: Partial<GuardLimits>;
  dir?: string;
  writer?: (home: Home) => LedgerWriter;
  /** Where the model runs: on this thread (default) or on a worker thread (onnx-thread-runner.ts). */
  placement?: 'inline' | 'worker';
}

export async function openTestGuard(o: TestGuardOptions = {}): Promise<TestGuard> {
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), 'hallmark-guard-'));
  if (!o.dir) initHome(dir);
  const home = openHome(dir);
  const guardKeys = await openGuardKeys(dir, PASS, { kdf: FAST_KDF });
  enrolGuardSigner(dir, guardKeys.signer); // as startGuard does at its first start
  const trust = homeTrust(home);
  const inner = o.placement === 'worker' ? await openOnnxThreadRunner(await fixtureOnnx()) : await openOnnxRunner(await fixtureOnnx());
  const runner = Object.assign(Object.create(inner) as ModelRunner, { calls: 0 }) as ModelRunner & { calls: number };
  runner.run = (x, n) => {
    runner.calls++;
    return inner.run(x, n);
  };
  const db = openApiDb(dir);
  const keys = openKeyStore(db);
  const logs: string[] = [];
  const log = (level: string, event: string, fields: Record<string, unknown> = {}) => logs.push(JSON.stringify({ level, event, ...fields }));
  const metrics = new GuardMetrics();
  const { marks, declined } = readJournal(dir, guardKeys.journal);
  const committed = new Map([...readCommitments(home.ledger, trust).latest].map(([c, v]) => [c, v.count]));
  const journal = new MarkJournal(dir, guardKeys.journal);
  const writer = o.writer ? o.writer(home) : directLedgerWriter(home.ledger, guardKeys.signer);
  const service = new GuardService({
    runner, watermarkKey: guardKeys.watermark, journal, marks, declined, committed, writer, metrics, log,
    monitor: inlineMonitor(new ExtractionMonitor(o.monitor)), limiter: new RateLimiter(o.rateLimit ?? { perSecond: 1e6, burst: 1e6 }),
    ...(o.markRate === undefined ? {} : { markRate: o.markRate }), ...(o.maxAltered === undefined ? {} : { maxAltered: o.maxAltered }), ...(o.onSuspect ? { onSuspect: o.onSuspect } : {}),
  });
  const app = createGuardApp({ service, keys, metrics, log, modelName: 'mnist', ...(o.limits ? { limits: o.limits } : {}), ...(o.clock ? { clock: o.clock } : {}) });
  return {
    dir, home, trust, keys, guardKeys, service, app, metrics, logs, runner,
    client: (name) => {
      const { key, secret } = keys.create({ role: 'client', name });
      return { id: key.id, secret };
    },
    async close() {
      await writer.close();
      journal.close();
      await inner.close();
      db.close();
      home.close();
    },
  };
}

/** OIP v2 infer body for n images. */
export function oipBody(x: Float32Array, n: number, name = 'input'): unknown {
  return { inputs: [{ name, shape: [n, 28, 28, 1], datatype: 'FP32', data: Array.from(x) }] };
}

export async function infer(app: TestGuard['app'], secret: string, x: Float32Array, n: number, inputName: string): Promise<Float32Array> {
  const res = await app.request('/v2/models/mnist/infer', { method: 'POST', headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' }, body: JSON.stringify(oipBody(x, n, inputName)) });
  if (res.status !== 200) throw new Error(`infer answered ${res.status}: ${await res.text()}`);
  const body = (await res.json()) as { outputs: { data: number[] }[] };
  return Float32Array.from(body.outputs[0]!.data);
}

export function argmaxRows(s: Float32Array, classes = 10): number[] {
  const out: number[] = [];
  for (let i = 0; i < s.length / classes; i++) {
    let b = 0;
    for (let j = 1; j < classes; j++) if (s[i * classes + j]! > s[i * classes + b]!) b = j;
    out.push(b);
  }
  return out;
}
