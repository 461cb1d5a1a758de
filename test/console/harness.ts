// A real home served on loopback with the console, and a real Chromium driving it.
// The home gets a real watermark and a real verification through the API, as a user would:
// the fixture MNIST CNN converted to ONNX is uploaded, marked by an `embed` job (training-free
// weight mark), the marked file uploaded back as a suspect and verified by a `verify` job.
import { existsSync } from 'node:fs';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { listen, type RunningServer } from '../../src/api/server.js';
import type { JobInfo } from '../../src/api/jobs.js';
import type { Role } from '../../src/api/roles.js';
import { convertTfjsToOnnx } from '../../src/formats/convert-tfjs-to-onnx.js';
import { makeTestApi, type TestApi } from '../api/helpers.js';

export const PASS = 'console test passphrase';

export interface ConsoleHome {
  readonly t: TestApi;
  readonly server: RunningServer;
  readonly url: string;
  /** The marked model's id and its verification.recorded entry. */
  readonly markedModel: string;
  readonly verificationIndex: number;
  /** Moves the server's clock forward (session expiry). */
  advance(ms: number): void;
  close(): Promise<void>;
}

async function finished(t: TestApi, res: Response): Promise<JobInfo> {
  if (res.status !== 202) throw new Error(`job not accepted: ${res.status} ${await res.text()}`);
  const { id } = (await res.json()) as JobInfo;
  return t.jobs.wait(id);
}

/** A home with a real embedded watermark and a real verification, served on 127.0.0.1. */
export async function startConsoleHome(): Promise<ConsoleHome> {
  let offset = 0;
  const t = makeTestApi({ passphrase: PASS, clock: () => new Date(Date.now() + offset), checkpoints: { afterWrites: true } });
  const json = (path: string, role: Role, body: unknown) => t.req(path, { role, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const bytes = (path: string, role: Role, body: Uint8Array) => t.req(path, { role, method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body });
  const onnx = await convertTfjsToOnnx('fixtures/mnist-cnn');
  const up = await bytes('/v1/uploads/models/mnist-cnn.onnx', 'engineer', onnx);
  const modelId = ((await up.json()) as { id: string }).id;
  const embed = await finished(t, await json('/v1/embed', 'engineer', { modelId, trainingFree: true, scheme: 'weight' }));
  if (embed.status !== 'succeeded') throw new Error(`embed failed: ${JSON.stringify(embed.error)}`);
  const out = embed.result as { output: { id: string; files: { name: string; download: string }[] } };
  const file = out.output.files.find((f) => f.name === 'marked.onnx')!;
  const marked = new Uint8Array(await (await t.req(file.download, { role: 'engineer' })).arrayBuffer());
  const sus = (await (await bytes('/v1/uploads/suspects/found-online.onnx', 'verifier', marked)).json()) as { upload: string; name: string };
  const v = await finished(t, await json('/v1/verify', 'verifier', { suspect: { upload: sus.upload, name: sus.name } }));
  if (v.status !== 'succeeded') throw new Error(`verify failed: ${JSON.stringify(v.error)}`);
  const verificationIndex = (v.result as { index: number }).index;
  t.checkpoints.signIfGrown();
  const server = await listen(t.app, { port: 0, host: '127.0.0.1' });
  return {
    t, server, url: server.url, markedModel: out.output.id, verificationIndex,
    advance: (ms) => { offset += ms; },
    async close() {
      await server.close();
      await t.dispose();
    },
  };
}

export function chromiumPath(): string {
  const p = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
  if (!existsSync(p)) throw new Error(`Chromium not found at ${p}: install the Debian package "chromium" or set CHROMIUM_PATH`);
  return p;
}

export function launchBrowser(): Promise<Browser> {
  return puppeteer.launch({ executablePath: chromiumPath(), headless: true, args: ['--no-sandbox', '--headless=new', '--disable-gpu', '--disable-dev-shm-usage'] });
}

/** Signs in through the form, as a person would: type the key, press Enter. */
export async function signIn(page: Page, url: string, secret: string): Promise<void> {
  await page.goto(`${url}/console/sign-in`);
  await page.type('#key', secret);
  await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
}

/** The hrefs in the console navigation. */
export function navLinks(page: Page): Promise<string[]> {
  return page.$$eval('nav[aria-label="Console views"] a', (as) => as.map((a) => new URL((a as HTMLAnchorElement).href).pathname));
}
