// Tests that spawn the CLI or child processes run the compiled code in dist/: build it once.
import { execFileSync } from 'node:child_process';
import { REPO } from './paths.js';

export default function setup(): void {
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', '.'], { cwd: REPO, stdio: 'inherit' });
}
