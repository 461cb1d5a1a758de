// Tests that spawn the CLI or child processes run the compiled code in dist/: build it once.
// tsc still emits when there are type errors (which `npm run typecheck` and `npm install` catch),
// so a type error elsewhere does not stop unrelated suites from running.
import { spawnSync } from 'node:child_process';
import { REPO } from './paths.js';

export default function setup(): void {
  const r = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', '.'], { cwd: REPO, encoding: 'utf8' });
  if (r.status !== 0) process.stderr.write(`warning: tsc reported errors; tests run against what it emitted\n${r.stdout.slice(0, 2000)}\n`);
}
