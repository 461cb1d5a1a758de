// The route groups the app is built from. A new capability (embedding, verification, evidence)
// is a file in this folder exporting a RouteGroup, and one line here.
import type { RouteGroup } from '../context.js';
import { docRoutes } from './docs.js';
import { embedRoutes } from './embed.js';
import { evidenceRoutes } from './evidence.js';
import { fingerprintRoutes } from './fingerprint.js';
import { jobRoutes } from './jobs.js';
import { keyRoutes } from './keys.js';
import { ledgerRoutes } from './ledger.js';
import { provenanceRoutes } from './provenance.js';
import { registryRoutes } from './registry.js';
import { verifyRoutes } from './verify.js';

export const ROUTE_GROUPS: readonly RouteGroup[] = [ledgerRoutes, registryRoutes, keyRoutes, jobRoutes, provenanceRoutes, evidenceRoutes, embedRoutes, fingerprintRoutes, verifyRoutes, docRoutes];
