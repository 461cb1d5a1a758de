// Runs after tsc in `npm run build` / `prepare`: records the commit the build came from in
// dist/build-info.json, for `hallmark version` in copies installed without their .git folder.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot, readBuildInfo } from '../cli/build-info.js';

const root = packageRoot();
const info = readBuildInfo(root);
mkdirSync(join(root, 'dist'), { recursive: true });
writeFileSync(join(root, 'dist', 'build-info.json'), `${JSON.stringify({ commit: info.commit, ...(info.dirty !== undefined ? { dirty: info.dirty } : {}) })}\n`);
