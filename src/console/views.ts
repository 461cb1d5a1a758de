// The console's views and who may see each. The lists are built from the API's own role sets
// (src/api/roles.ts), so a view is open to the roles that may call the routes behind it.
import { ANY_ROLE, AUDITORS, COMPLIANCE, LEGAL, readersOf, VERIFIERS, type Role } from '../api/roles.js';

export type ViewId = 'ledger' | 'models' | 'verifications' | 'provenance' | 'guard' | 'audit';

export interface ViewDef {
  readonly id: ViewId;
  readonly title: string;
  readonly path: string;
  readonly roles: readonly Role[];
}

const union = (...lists: (readonly Role[])[]): readonly Role[] => [...new Set(lists.flat())];

export const VIEWS: readonly ViewDef[] = [
  // Ledger reads are public in the API; the console shows them to every signed-in role.
  { id: 'ledger', title: 'Ledger', path: '/console/ledger', roles: ANY_ROLE },
  { id: 'models', title: 'Models', path: '/console/models', roles: ANY_ROLE },
  // Verification results: who runs them, who exports evidence from them, and the auditor.
  { id: 'verifications', title: 'Verifications', path: '/console/verifications', roles: readersOf(union(VERIFIERS, LEGAL)) },
  { id: 'provenance', title: 'Provenance', path: '/console/provenance', roles: readersOf(COMPLIANCE) },
  // The guard's clients and alerts: operators (admin, engineer) and the auditor.
  { id: 'guard', title: 'Guard', path: '/console/guard', roles: readersOf(['admin', 'engineer']) },
  { id: 'audit', title: 'Audit', path: '/console/audit', roles: AUDITORS },
];

/** Actions inside views, narrower than seeing the view. */
export const ACTIONS = {
  exportEvidence: LEGAL,
  downloadEvidence: readersOf(LEGAL),
  buildProvenance: COMPLIANCE,
  downloadProvenance: readersOf(COMPLIANCE),
  runAudit: AUDITORS,
} as const satisfies Record<string, readonly Role[]>;

export function viewsFor(role: Role): ViewDef[] {
  return VIEWS.filter((v) => v.roles.includes(role));
}

export function view(id: ViewId): ViewDef {
  return VIEWS.find((v) => v.id === id)!;
}
