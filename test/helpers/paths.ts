import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** ../shared/vectors beside the repository, as CI lays it out. */
export const VECTORS = join(REPO, '..', 'shared', 'vectors');
if (!existsSync(VECTORS)) throw new Error(`test vectors not found at ${VECTORS}: clone the repo beside shared/`);
