// The extraction monitor on its worker thread (the guard's default) against the same monitor on
// the calling thread: the same suspicions at the same query, the same figures, nothing dropped
// when the worker falls behind, and through a real guard on loopback a synthetic stream is
// recorded and blocked.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { openApiDb } from '../../src/api/api-db.js';
import { openKeyStore } from '../../src/api/keys.js';
import { loadMnist } from '../../src/formats/mnist.js';
import { ExtractionMonitor, inlineMonitor, MONITOR_MAX_FEATURES, monitorFeatureBatchInto, monitorFeatures, monitorFeatureSize, startGuard, threadedMonitor, type QueryMonitor, type Suspicion } from '../../src/guard/index.js';
import { samplePhoto } from '../helpers/photos.js';
import { homeTrust, initHome, openHome } from '../../src/home/index.js';
import { extractionSuspected, readRecords } from '../../src/records/index.js';
import { FAST_KDF, fixtureOnnx, PASS } from './helpers.js';

const mnist = await loadMnist({ seed: 0 });
const DIMS = [28, 28, 1];

/** Jacobian-style synthetic rounds: 100 seed digits, then small signed steps from the previous round. */
function syntheticRounds(rounds: number): Float32Array[] {
  let seed = 3;
  const sign = () => {
    seed = (seed * 16807) % 2147483647;
    return seed / 2147483647 < 0.5 ? -1 : 1;
  };
  const out = [mnist.test.images.slice(0, 100 * 784)];
  for (let r = 1; r < rounds; r++) out.push(out[r - 1]!.map((v) => Math.min(1, Math.max(0, v + 0.1 * sign()))));
  return out;
}

/** Classes for a batch: the true label of the seed digit each input came from (fixed, so both monitors see the same stream). */
const classes = (n: number, from = 0) => Int32Array.from({ length: n }, (_, i) => mnist.test.labels[(from + i) % 2000]!);

/** The features the guard computes while the model runs, for observe()'s last argument. */
const precomputed = (x: Float32Array, n: number) => {
  const f = new Float32Array(n * monitorFeatureSize(DIMS));
  monitorFeatureBatchInto(x, DIMS, n, f, 0);
  return f;
};

/**
 * withFeatures: 'fresh' passes features computed for the call; 'reused' writes them into one
 * buffer per batch size and overwrites it with garbage right after each call, as the guard
 * reuses its buffers: a monitor that kept the caller's array would see the garbage.
 */
async function feed(m: QueryMonitor, clock: { t: number }, withFeatures: false | 'fresh' | 'reused' = false): Promise<{ suspicions: Suspicion[]; waited: number }> {
  const reused = new Map<number, Float32Array>();
  const observe = (client: string, x: Float32Array, n: number, predicted: Int32Array) => {
    if (withFeatures !== 'reused') return m.observe(client, x, DIMS, n, predicted, withFeatures ? precomputed(x, n) : undefined);
    const f = reused.get(n) ?? new Float32Array(n * monitorFeatureSize(DIMS));
    reused.set(n, f);
    monitorFeatureBatchInto(x, DIMS, n, f, 0);
    const behind = m.observe(client, x, DIMS, n, predicted, f);
    f.fill(-7);
    return behind;
  };
  const suspicions: Suspicion[] = [];
  m.listen({ suspicion: (s) => suspicions.push(s), stats: () => undefined });
  let waited = 0;
  const step = async (p: Promise<void> | undefined) => {
    if (p) {
      waited++;
      await p;
    }
  };
  for (let i = 0; i < 2000; i += 50) {
    clock.t += 1000;
    await step(observe('honest', mnist.test.images.subarray(i * 784, (i + 50) * 784), 50, classes(50, i)));
  }
  for (const round of syntheticRounds(12)) {
    clock.t += 1000;
    await step(observe('thief', round, 100, classes(100)));
  }
  await m.idle();
  return { suspicions, waited };
}

describe('monitor features', () => {
  it('MNIST keeps 2x2 means (196); a 224x224x3 photo is averaged over 13x13 blocks (972), as a naive reference computes; long vectors over 1,024 segments', () => {
    expect(monitorFeatureSize([28, 28, 1])).toBe(196);
    expect(monitorFeatures(mnist.test.images.subarray(0, 784), [28, 28, 1])).toHaveLength(196);
    for (const k of [1, 2]) {
      const x = samplePhoto(k);
      const f = monitorFeatures(x, [224, 224, 3]);
      expect(f).toHaveLength(972);
      expect(monitorFeatureSize([224, 224, 3])).toBe(972);
      // Naive: for each block and channel, the mean over its 13x13 pixels (edge blocks: 224 = 17 x 13 + 3, divided by 169 all the same).
      for (const [by, bx, ch] of [[0, 0, 0], [5, 9, 1], [17, 17, 2], [17, 3, 0]] as const) {
        let sum = 0;
        for (let y = by * 13; y < Math.min(224, (by + 1) * 13); y++) for (let xx = bx * 13; xx < Math.min(224, (bx + 1) * 13); xx++) sum += x[(y * 224 + xx) * 3 + ch]!;
        expect(f[(by * 18 + bx) * 3 + ch]).toBeCloseTo(sum / 169, 5);
      }
    }
    const audio = Float32Array.from({ length: 16000 }, (_, i) => Math.sin(i / 10));
    const fa = monitorFeatures(audio, [16000]);
    expect(fa).toHaveLength(MONITOR_MAX_FEATURES);
    let first = 0;
    for (let i = 0; i < 15; i++) first += audio[i]!; // segment 0 is [0, floor(16000 / 1024)) = [0, 15)
    expect(fa[0]).toBeCloseTo(first / 15, 6);
    expect(monitorFeatures(audio.subarray(0, 512), [512])).toEqual(audio.subarray(0, 512));
  });
});

describe('the extraction monitor on a worker thread', () => {
  it('raises the same suspicion at the same query as the monitor on the calling thread, with the same figures', async () => {
    const inlineClock = { t: 1_700_000_000_000 };
    const threadClock = { t: 1_700_000_000_000 };
    const inline = inlineMonitor(new ExtractionMonitor({}, () => inlineClock.t));
    const threaded = threadedMonitor({}, { now: () => threadClock.t });
    try {
      const a = await feed(inline, inlineClock);
      const b = await feed(threaded, threadClock);
      expect(a.suspicions).toHaveLength(1);
      expect(a.suspicions[0]).toMatchObject({ client: 'thief', reason: 'shapiro-wilk' });
      expect(b.suspicions).toEqual(a.suspicions);
      for (const c of ['honest', 'thief']) expect(threaded.stats(c)).toEqual(inline.stats(c));
      expect(threaded.stats('honest')).toMatchObject({ queries: 2000, suspected: false });
      // Features computed by the caller (as the guard does while the model runs): the same again.
      for (const [m, clock] of [[inlineMonitor(new ExtractionMonitor({}, () => inlineClock.t)), inlineClock], [threadedMonitor({}, { now: () => threadClock.t }), threadClock]] as const) {
        clock.t = 1_700_000_000_000;
        try {
          expect((await feed(m, clock, 'fresh')).suspicions).toEqual(a.suspicions);
          for (const c of ['honest', 'thief']) expect(m.stats(c)).toEqual(inline.stats(c));
        } finally {
          await m.close();
        }
      }
      // The caller's feature buffer reused and overwritten after each call (the guard's pool): the same again.
      for (const [m, clock] of [[inlineMonitor(new ExtractionMonitor({}, () => inlineClock.t)), inlineClock], [threadedMonitor({}, { now: () => threadClock.t }), threadClock]] as const) {
        clock.t = 1_700_000_000_000;
        try {
          expect((await feed(m, clock, 'reused')).suspicions).toEqual(a.suspicions);
          for (const c of ['honest', 'thief']) expect(m.stats(c)).toEqual(inline.stats(c));
        } finally {
          await m.close();
        }
      }
    } finally {
      await threaded.close();
    }
  });

  it('makes the caller wait once the worker is behind by more than maxLag queries, and drops nothing', async () => {
    const clock = { t: 1_700_000_000_000 };
    const threaded = threadedMonitor({}, { now: () => clock.t, maxLag: 120 });
    try {
      const { suspicions, waited } = await feed(threaded, clock);
      expect(waited).toBeGreaterThan(0);
      expect(suspicions.map((s) => s.client)).toEqual(['thief']);
      expect(threaded.stats('honest')!.queries).toBe(2000);
      expect(threaded.stats('thief')!.queries).toBe(1200);
    } finally {
      await threaded.close();
    }
    expect(() => threadedMonitor({ threshold: 2 })).toThrow(/threshold/);
    expect(() => threadedMonitor({}, { maxLag: 0 })).toThrow(/maxLag/);
  });

  it('when the worker dies, says so once and monitors on the calling thread from then on', async () => {
    const clock = { t: 1_700_000_000_000 };
    const errors: string[] = [];
    const m = threadedMonitor({}, { now: () => clock.t, workerEntry: new URL('data:text/javascript,process.exit(3)'), onWorkerError: (e) => errors.push(e) });
    try {
      await vi.waitFor(() => expect(errors).toHaveLength(1));
      const { suspicions } = await feed(m, clock);
      expect(errors).toEqual(['the monitor worker exited (code 3)']);
      expect(suspicions.map((s) => s.client)).toEqual(['thief']);
      expect(m.stats('honest')).toMatchObject({ queries: 2000, suspected: false });
    } finally {
      await m.close();
    }
  });

  it('in a guard on loopback (the default, threaded), a synthetic stream is recorded and blocked within a request of the alert', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hallmark-guard-thread-'));
    initHome(dir);
    const db = openApiDb(dir);
    const keys = openKeyStore(db);
    const honest = keys.create({ role: 'client', name: 'honest' });
    const thief = keys.create({ role: 'client', name: 'thief' });
    db.close();
    const logs: string[] = [];
    const g = await startGuard({ homeDir: dir, passphrase: PASS, kdf: FAST_KDF, model: await fixtureOnnx(), modelName: 'mnist', port: 0, onSuspect: 'block', commitEverySeconds: 3600, log: (level, event, f = {}) => logs.push(JSON.stringify({ level, event, ...f })) });
    // Each response is read to its end, as a client's would be (restart.test.ts shows that one that
    // is not read can no longer hold the guard's shutdown for long).
    const post = async (secret: string, x: Float32Array, n: number) => {
      const res = await fetch(`${g.url}/v2/models/mnist/infer`, { method: 'POST', headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' }, body: JSON.stringify({ inputs: [{ name: g.runner.inputName, shape: [n, 28, 28, 1], datatype: 'FP32', data: Array.from(x) }] }) });
      await res.arrayBuffer();
      return res;
    };
    try {
      for (let i = 0; i < 2000; i += 200) expect((await post(honest.secret, mnist.test.images.subarray(i * 784, (i + 200) * 784), 200)).status).toBe(200);
      let sent = 0;
      let blockedAt = -1;
      for (const round of syntheticRounds(20)) {
        const res = await post(thief.secret, round, 100);
        if (res.status === 403) {
          blockedAt = sent;
          break;
        }
        expect(res.status).toBe(200);
        sent += 100;
        if (logs.some((l) => l.includes('"alert"'))) {
          // The alert came back from the worker: the very next request is refused.
          await g.service.monitorIdle();
          const next = await post(thief.secret, round, 100);
          expect(next.status).toBe(403);
          blockedAt = sent;
          break;
        }
      }
      expect(blockedAt).toBeGreaterThan(0);
      expect(blockedAt).toBeLessThan(2000);
      expect((await post(honest.secret, mnist.test.images.subarray(0, 784), 1)).status).toBe(200);
      await g.service.monitorIdle();
      const alerts = logs.filter((l) => l.includes('"alert"'));
      expect(alerts).toHaveLength(1);
      expect(alerts[0]).toContain(thief.key.id);
    } finally {
      await g.close();
    }
    const home = openHome(dir);
    try {
      const suspected = readRecords(home.ledger, extractionSuspected, { trust: homeTrust(home) });
      expect(suspected.problems).toEqual([]);
      expect(suspected.records.map((r) => r.record)).toMatchObject([{ client: thief.key.id, action: 'block' }]);
    } finally {
      home.close();
    }
  });
});
