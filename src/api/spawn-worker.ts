// Starts a worker thread on a module of ours. Built code (dist/*.js) runs as is; when the code
// runs from TypeScript sources (vitest), the worker first registers a small loader hook that
// strips types with esbuild (a dev dependency of vitest) and maps `./x.js` imports to `./x.ts`.
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

const FROM_SOURCE = import.meta.url.endsWith('.ts');

function hooksSource(esbuildUrl: string): string {
  return `
import { transformSync } from ${JSON.stringify(esbuildUrl)};
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
export async function resolve(spec, ctx, next) {
  try { return await next(spec, ctx); } catch (err) {
    if (spec.endsWith('.js') && ctx.parentURL && ctx.parentURL.endsWith('.ts')) return next(spec.slice(0, -3) + '.ts', ctx);
    throw err;
  }
}
export async function load(url, ctx, next) {
  if (!url.startsWith('file:') || !url.endsWith('.ts')) return next(url, ctx);
  const file = fileURLToPath(url);
  const out = transformSync(readFileSync(file, 'utf8'), { loader: 'ts', format: 'esm', target: 'node20', sourcefile: file, sourcemap: 'inline' });
  return { format: 'module', source: out.code, shortCircuit: true };
}`;
}

const dataUrl = (code: string) => `data:text/javascript,${encodeURIComponent(code)}`;

/** A worker running `entry` (a URL next to the caller, written with a .js suffix). */
export function spawnWorker(entry: URL, workerData: unknown): Worker {
  if (!FROM_SOURCE) return new Worker(entry, { workerData });
  const esbuild = pathToFileURL(createRequire(import.meta.url).resolve('esbuild')).href;
  const tsEntry = entry.href.replace(/\.js$/, '.ts');
  const boot = `import { register } from 'node:module';
register(${JSON.stringify(dataUrl(hooksSource(esbuild)))});
await import(${JSON.stringify(tsEntry)});`;
  return new Worker(new URL(dataUrl(boot)), { workerData });
}
