// Writes PNG screenshots of the console's main views to docs/console/ (shown in docs/console.md).
// It builds a demo home the way a user would through the API: the fixture MNIST CNN (as ONNX) is
// uploaded, marked by an `embed` job, the marked copy verified as a suspect, evidence exported
// and a provenance bundle built; then Chromium signs in as admin and photographs each view.
//   npm run build && node dist/scripts/console-screenshots.js [out-dir]
// Chromium: $CHROMIUM_PATH, else /usr/bin/chromium (Debian package "chromium").
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import puppeteer from 'puppeteer-core';
import type { JobInfo } from '../src/api/jobs.js';
import type { Role } from '../src/api/roles.js';
import { listen, openApi } from '../src/api/server.js';
import { convertTfjsToOnnx } from '../src/formats/convert-tfjs-to-onnx.js';
import { initHome } from '../src/home/index.js';

const PASS = 'console screenshots';

async function main(): Promise<void> {
  const out = resolve(process.argv[2] ?? 'docs/console');
  const chromium = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
  if (!existsSync(chromium)) throw new Error(`Chromium not found at ${chromium}; install the Debian package "chromium" or set CHROMIUM_PATH`);
  mkdirSync(out, { recursive: true });
  const dir = mkdtempSync(join(tmpdir(), 'hallmark-console-demo-'));
  initHome(dir, { passphrase: PASS });
  const api = openApi(dir, { passphrase: PASS, log: () => {}, checkpoints: { afterWrites: true } });
  const keys = Object.fromEntries((['admin', 'engineer', 'verifier', 'legal', 'compliance'] as Role[]).map((r) => [r, api.keys.create({ role: r, name: `demo ${r}` }).secret])) as Record<string, string>;
  api.keys.create({ role: 'client', name: 'partner-app' });
  const call = (path: string, role: string, init: RequestInit = {}) => Promise.resolve(api.app.request(path, { ...init, headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${keys[role]}` } }));
  const post = (path: string, role: string, body: unknown) => call(path, role, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const put = (path: string, role: string, body: Uint8Array) => call(path, role, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body });
  const job = async (res: Response): Promise<JobInfo> => {
    if (res.status !== 202) throw new Error(`${res.status} ${await res.text()}`);
    const j = await api.jobs.wait(((await res.json()) as JobInfo).id);
    if (j.status !== 'succeeded') throw new Error(`${j.kind} failed: ${j.error?.message}`);
    return j;
  };
  const server = await listen(api.app, { port: 0, host: '127.0.0.1' });
  const browser = await puppeteer.launch({ executablePath: chromium, headless: true, args: ['--no-sandbox', '--headless=new', '--disable-gpu'] });
  try {
    process.stderr.write('building the demo home (embed, verify, evidence)...\n');
    const ds = ((await (await post('/v1/datasets', 'engineer', { dataset: { name: 'support-tickets', digest: { sha256: 'a'.repeat(64) } }, items: 12000 })).json()) as { id: string }).id;
    const onnx = await convertTfjsToOnnx('fixtures/mnist-cnn');
    const modelId = ((await (await put('/v1/uploads/models/mnist-cnn.onnx', 'engineer', onnx)).json()) as { id: string }).id;
    const embed = await job(await post('/v1/embed', 'engineer', { modelId, trainingFree: true, scheme: 'weight' }));
    const output = (embed.result as { output: { id: string; files: { name: string; download: string }[] } }).output;
    const marked = new Uint8Array(await (await call(output.files.find((f) => f.name === 'marked.onnx')!.download, 'engineer')).arrayBuffer());
    const sus = (await (await put('/v1/uploads/suspects/found-online.onnx', 'verifier', marked)).json()) as { upload: string; name: string };
    const v = await job(await post('/v1/verify', 'verifier', { suspect: { upload: sus.upload, name: sus.name } }));
    const index = (v.result as { index: number }).index;
    // A model fine-tuned from the marked one, registered by digest: the lineage graph's third level.
    await post('/v1/models', 'engineer', { model: { name: 'mnist-cnn-tuned', digest: { sha256: 'b'.repeat(64) } }, format: 'onnx', derivedFrom: { operation: 'fine-tune', baseModels: [output.id], datasets: [ds] } });
    await job(await post('/v1/evidence', 'legal', { verification: index }));
    api.checkpoints.signIfGrown();

    const page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 900 });
    const shot = async (name: string) => {
      await page.waitForFunction("!document.querySelector('#proof-summary') || document.querySelector('#proof-summary').getAttribute('data-done') === 'true'");
      await page.screenshot({ path: join(out, `${name}.png`), fullPage: true });
      process.stderr.write(`wrote ${join(out, `${name}.png`)}\n`);
    };
    await page.goto(`${server.url}/console/sign-in`);
    await shot('sign-in');
    await page.type('#key', keys.admin!);
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
    await shot('ledger');
    await page.goto(`${server.url}/console/models/model:sha256:${'b'.repeat(64)}`);
    await shot('model');
    await page.goto(`${server.url}/console/verifications/${index}`);
    await shot('verification');
    await page.goto(`${server.url}/console/provenance`);
    await page.select('#p-model', output.id);
    await Promise.all([page.waitForNavigation(), page.click('#build-provenance')]);
    await shot('provenance');
    await page.goto(`${server.url}/console/audit`);
    await Promise.all([page.waitForNavigation(), page.click('#run-audit')]);
    await page.waitForSelector('#audit-result', { timeout: 120_000 });
    await shot('audit');
    await page.goto(`${server.url}/console/guard`);
    await shot('guard');
  } finally {
    await browser.close();
    await server.close();
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`console-screenshots: ${(err as Error).message}\n`);
  process.exit(1);
});
