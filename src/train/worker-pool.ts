/**
 * Training worker threads, kept between fits (starting one loads TensorFlow.js and compiles the wasm
 * backend, about a second) and unref'd so they never keep the process alive. A team serves one fit
 * at a time; concurrent fits take another team.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import type { BackendChoice } from './backend.js';
import type { WarmMessage } from './fit-worker.js';
import { allocateShared, type SharedBuffers, type SharedLayout } from './parallel-layout.js';

export interface Team {
  readonly key: string;
  readonly workers: Worker[];
  /**
   * The shared memory of this team's last fit, reused by the next fit of the same layout: fresh
   * memory costs its page faults on first touch (about 5 ms per 400 KB here), on every fit.
   */
  shared?: { readonly layout: string; readonly buffers: SharedBuffers };
}

const idle = new Map<string, Team[]>();
const all = new Set<Team>();

/**
 * The compiled worker script. Running from TypeScript sources (tests), the build in dist/ serves:
 * worker threads cannot load .ts files.
 */
export function workerScript(): string {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.js')) return path.join(path.dirname(here), 'fit-worker.js');
  const repo = path.resolve(path.dirname(here), '..', '..');
  return path.join(repo, 'dist', 'src', 'train', 'fit-worker.js');
}

/** An idle team of `n` workers on `backend`, or a new one; undefined with a reason when none can start. */
export function takeTeam(backend: BackendChoice, n: number): Team | string {
  const key = `${backend}/${n}`;
  const team = idle.get(key)?.pop();
  if (team) return team;
  const script = workerScript();
  if (!existsSync(script)) return `the worker script ${script} is missing (run npm run build)`;
  const workers = Array.from({ length: n }, () => new Worker(script));
  for (const w of workers) w.unref();
  const created = { key, workers };
  all.add(created);
  return created;
}

/** The team's shared memory for `layout`: the last fit's when the layout is the same, control zeroed. */
export function teamBuffers(team: Team, layout: SharedLayout): SharedBuffers {
  const key = JSON.stringify(layout);
  if (team.shared?.layout === key) {
    new Int32Array(team.shared.buffers.control).fill(0);
    return team.shared.buffers;
  }
  const buffers = allocateShared(layout);
  const bytes = Object.values(buffers).reduce((n, b: SharedArrayBuffer) => n + b.byteLength, 0);
  // An idle team keeps small buffers only: a MobileNet batch (224x224x3, 128 samples) is 77 MB,
  // which a long-running server should not hold between jobs.
  team.shared = bytes <= KEEP_SHARED_BYTES ? { layout: key, buffers } : undefined;
  return buffers;
}

/** The most shared memory an idle team keeps for its next fit. */
export const KEEP_SHARED_BYTES = 32 * 2 ** 20;

/**
 * Starts an idle team of `n` workers on `backend` now, so that its start (about a second per worker)
 * overlaps the caller's own preparation (loading the model and data, evaluating it) instead of
 * delaying the first step. Does nothing when such a team is idle already or none can start.
 */
export function prewarmTrainingWorkers(backend: BackendChoice, n = availableParallelism()): void {
  if (n < 2 || (idle.get(`${backend}/${n}`)?.length ?? 0) > 0) return;
  const team = takeTeam(backend, n);
  if (typeof team === 'string') return;
  for (const w of team.workers) w.postMessage({ type: 'warm', backend } satisfies WarmMessage);
  returnTeam(team);
}

export function returnTeam(team: Team): void {
  const list = idle.get(team.key) ?? [];
  list.push(team);
  idle.set(team.key, list);
}

/** Ends a team that failed; its workers may be blocked or dead. */
export async function discardTeam(team: Team): Promise<void> {
  all.delete(team);
  await Promise.all(team.workers.map((w) => w.terminate()));
}

/** Training worker threads alive now, idle or busy (diagnostics, tests). */
export function trainingWorkerCount(): number {
  let n = 0;
  for (const t of all) n += t.workers.length;
  return n;
}

/** Stops every training worker (tests, or a long-running service shutting down). */
export async function closeTrainingWorkers(): Promise<void> {
  const teams = [...all];
  all.clear();
  idle.clear();
  await Promise.all(teams.flatMap((t) => t.workers.map((w) => w.terminate())));
}
