// Runs after tsc in `npm run build` / `prepare`: records the commit the build came from in
// dist/build-info.json, for `hallmark version` in copies installed without their .git folder,
// and makes the CLI executable: tsc writes new files 0644, and `npx hallmark` in a fresh clone
// runs the package's own bin by its path (npm links and chmods bins only of installed packages).
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot, readBuildInfo } from '../cli/build-info.js';

const root = packageRoot();
const info = readBuildInfo(root);
mkdirSync(join(root, 'dist'), { recursive: true });
writeFileSync(join(root, 'dist', 'build-info.json'), `${JSON.stringify({ commit: info.commit, ...(info.dirty !== undefined ? { dirty: info.dirty } : {}) })}\n`);
const bin = join(root, 'dist', 'cli', 'main.js');
if (existsSync(bin)) chmodSync(bin, 0o755);
